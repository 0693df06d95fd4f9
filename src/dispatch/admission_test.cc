// Admission: the node limit and the per-function share, and tickets that
// always give their slot back.
#include "dispatch/admission.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace fn0::dispatch {
namespace {

TEST(Admission, OneFunctionGetsAtMostItsShare) {
  Admission a(4, 0);  // share: half
  EXPECT_EQ(a.functionShare(), 2u);
  Admission::Refusal why;
  auto t1 = a.admit("slow", 0, why), t2 = a.admit("slow", 0, why);
  EXPECT_TRUE(t1 && t2);
  auto t3 = a.admit("slow", 0, why);
  EXPECT_FALSE(t3);
  EXPECT_EQ(why, Admission::Refusal::Function);
  auto other = a.admit("other", 0, why);  // the others keep their room
  EXPECT_TRUE(other);
  EXPECT_EQ(why, Admission::Refusal::None);
  auto third = a.admit("third", 0, why);
  EXPECT_TRUE(third);
  EXPECT_FALSE(a.admit("fourth", 0, why));  // the node is full now
  EXPECT_EQ(why, Admission::Refusal::Node);
  EXPECT_EQ(a.running(), 4u);
  EXPECT_EQ(a.running("slow"), 2u);
}

TEST(Admission, ASettingOnlyTightensTheShare) {
  Admission a(10, 4);
  Admission::Refusal why;
  std::vector<Admission::Ticket> held;
  for (int i = 0; i < 3; i++) held.push_back(a.admit("f", 1000, why));  // 1000: still 4
  held.push_back(a.admit("f", 1000, why));
  EXPECT_TRUE(held.back());
  EXPECT_FALSE(a.admit("f", 1000, why));
  auto g = a.admit("g", 1, why);
  EXPECT_TRUE(g);
  EXPECT_FALSE(a.admit("g", 1, why));
  EXPECT_EQ(why, Admission::Refusal::Function);
}

TEST(Admission, TicketsAlwaysGiveTheSlotBack) {
  Admission a(2, 2);
  Admission::Refusal why;
  {
    auto t = a.admit("f", 0, why);
    auto moved = std::move(t);
    EXPECT_FALSE(t);
    EXPECT_EQ(a.running("f"), 1u);
    moved.release();
    moved.release();  // idempotent
    EXPECT_EQ(a.running(), 0u);
  }
  try {
    auto t = a.admit("f", 0, why);
    throw std::runtime_error("boom");
  } catch (const std::exception&) {
  }
  EXPECT_EQ(a.running(), 0u);
  auto x = a.admit("f", 0, why);
  x = a.admit("g", 0, why);  // assigning releases the old slot
  EXPECT_EQ(a.running("f"), 0u);
  EXPECT_EQ(a.running("g"), 1u);
  // Many functions coming and going leave nothing behind.
  for (int i = 0; i < 1000; i++) EXPECT_TRUE(a.admit("fn" + std::to_string(i), 0, why));
  EXPECT_EQ(a.running(), 1u);
}

TEST(Admission, TinyNodeLimitsStillAdmitOne) {
  Admission a(1, 0);
  EXPECT_EQ(a.functionShare(), 1u);
  Admission::Refusal why;
  auto t = a.admit("f", 0, why);
  EXPECT_TRUE(t);
  EXPECT_FALSE(a.admit("g", 0, why));
  EXPECT_EQ(why, Admission::Refusal::Node);
  Admission big(10, 50);  // a share above the node's limit is the node's limit
  EXPECT_EQ(big.functionShare(), 10u);
}

}  // namespace
}  // namespace fn0::dispatch
