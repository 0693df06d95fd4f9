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

TEST(LogBuffer, ReadsPagesFiltersAndTails) {
  LogBuffer b(1 << 20);
  for (int i = 0; i < 10; i++) b.append(i % 2 ? "odd" : "even", 1, "line " + std::to_string(i));
  Query q;
  q.limit = 3;
  auto p = b.read(q);
  ASSERT_EQ(p.entries.size(), 3u);
  EXPECT_EQ(p.entries[0].line, "line 0");
  EXPECT_TRUE(p.more);
  EXPECT_EQ(p.scannedTo, 3u);
  EXPECT_EQ(p.lastSeq, 10u);
  q.after = p.scannedTo;
  EXPECT_EQ(b.read(q).entries[0].line, "line 3");

  Query odd;
  odd.requestId = "odd";
  odd.limit = 100;
  auto o = b.read(odd);
  ASSERT_EQ(o.entries.size(), 5u);
  EXPECT_EQ(o.entries[4].line, "line 9");
  EXPECT_FALSE(o.more);
  EXPECT_EQ(o.scannedTo, 10u);

  Query text;
  text.text = "line 7";
  ASSERT_EQ(b.read(text).entries.size(), 1u);

  Query tail;
  tail.tail = true;
  tail.limit = 3;
  auto t = b.read(tail);
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.entries[0].line, "line 7");
  EXPECT_EQ(t.entries[2].line, "line 9");
  EXPECT_EQ(t.scannedTo, 10u);

  Query future;
  future.sinceUs = toMicros(std::chrono::system_clock::now() + std::chrono::hours(1));
  auto none = b.read(future);
  EXPECT_TRUE(none.entries.empty());
  EXPECT_EQ(none.scannedTo, 10u);  // nothing there to ask for again
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
