#include "logs/log_buffer.h"

#include <gtest/gtest.h>

#include <thread>

namespace fn0::logs {
namespace {

TEST(LogBuffer, KeepsLinesWithTheirRequestIdInOrder) {
  LogBuffer b(1 << 20);
  b.append("req-1", 1, "hello");
  b.append("req-2", 2, "oops");
  auto all = b.after(0, 100);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].requestId, "req-1");
  EXPECT_EQ(all[0].line, "hello");
  EXPECT_EQ(all[1].stream, 2);
  EXPECT_LT(all[0].seq, all[1].seq);
  EXPECT_EQ(b.after(all[0].seq, 100).size(), 1u);  // a follower resumes after what it saw
}

TEST(LogBuffer, DropsOldestBeyondTheBudget) {
  LogBuffer b(1000);
  for (int i = 0; i < 100; i++) b.append("r", 1, std::string(50, 'x') + std::to_string(i));
  EXPECT_LE(b.bytes(), 1000u);
  auto kept = b.after(0, 1000);
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept.back().line, std::string(50, 'x') + "99");
  EXPECT_GT(kept.front().seq, 1u);
  EXPECT_EQ(b.lastSeq(), 100u);
}

TEST(LogBuffer, SinceReturnsTheNewestWithinTheLimit) {
  LogBuffer b(1 << 20);
  auto start = std::chrono::system_clock::now();
  for (int i = 0; i < 10; i++) b.append("r", 1, std::to_string(i));
  auto last3 = b.since(start, 3);
  ASSERT_EQ(last3.size(), 3u);
  EXPECT_EQ(last3[0].line, "7");
  EXPECT_EQ(last3[2].line, "9");
  EXPECT_TRUE(b.since(std::chrono::system_clock::now() + std::chrono::hours(1), 10).empty());
}

TEST(LogBuffer, IsSafeToAppendFromManyThreads) {
  LogBuffer b(1 << 24);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; i++) b.append("r", 1, "line");
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(b.lastSeq(), 4000u);
  EXPECT_EQ(b.after(0, 10000).size(), 4000u);
}

}  // namespace
}  // namespace fn0::logs
