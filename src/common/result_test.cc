#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace fn0 {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return Error{"not positive: " + std::to_string(v)};
  return v;
}

TEST(Result, CarriesValue) {
  auto r = parsePositive(7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 7);
}

TEST(Result, CarriesError) {
  auto r = parsePositive(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not positive: -1");
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

TEST(Result, VoidDistinguishesSuccessFromError) {
  Result<void> ok;
  Result<void> bad = Error{"boom"};
  EXPECT_TRUE(ok.ok());
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "boom");
}

}  // namespace
}  // namespace fn0
