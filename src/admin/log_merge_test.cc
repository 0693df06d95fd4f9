// The cluster-wide log cursor: pages merged by time, every line once.
#include "admin/log_merge.h"

#include <gtest/gtest.h>

#include <set>

namespace fn0::admin {
namespace {

using nlohmann::json;

NodeLogPage page(const std::string& node, int64_t epoch, std::vector<std::pair<uint64_t, double>> lines) {
  NodeLogPage p;
  p.node = node;
  p.epoch = epoch;
  for (const auto& [seq, time] : lines) p.entries.push_back(json{{"seq", seq}, {"time", time}, {"line", node}});
  return p;
}

TEST(LogCursor, RoundTripsAndRefusesWhatItNeverGaveOut) {
  const LogCursor c{{"127.0.0.1:8081", {1700000000123, 42}}, {"[::1]:8082", {5, 0}}};
  const auto text = formatLogCursor(c);
  EXPECT_EQ(text, "127.0.0.1:8081=1700000000123-42,[::1]:8082=5-0");
  auto back = parseLogCursor(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ(back->at("127.0.0.1:8081").seq, 42u);
  EXPECT_EQ(back->at("[::1]:8082").epoch, 5);
  EXPECT_TRUE(parseLogCursor("")->empty());
  for (const char* bad : {"x", "a=1", "a=1-", "a=-1", "=1-2", "a=1-2,", "a=1-x", "a b=1-2", "a=1-99999999999999999999"})
    EXPECT_FALSE(parseLogCursor(bad)) << bad;
  EXPECT_FALSE(parseLogCursor(std::string(kMaxCursorBytes + 1, 'a')));
}

TEST(LogCursor, StartsOverOnANodeThatRestarted) {
  const LogCursor c{{"a", {10, 7}}};
  EXPECT_EQ(startAfter(c, "a", 10), 7u);
  EXPECT_EQ(startAfter(c, "a", 11), 0u);  // a new process: its seq began again at 1
  EXPECT_EQ(startAfter(c, "b", 10), 0u);
}

TEST(LogMerge, OrdersByTimeTagsTheNodeAndMovesEachNodesPosition) {
  auto m = mergeLogPages({page("a", 1, {{1, 1.0}, {2, 3.0}}), page("b", 2, {{8, 2.0}, {9, 4.0}})}, 10, {});
  std::vector<std::string> order;
  for (const auto& e : m.entries) order.push_back(e["node"].get<std::string>() + std::to_string(e["seq"].get<int>()));
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b8", "a2", "b9"}));
  EXPECT_EQ(formatLogCursor(m.cursor), "a=1-2,b=2-9");
  EXPECT_FALSE(m.more);
}

TEST(LogMerge, APageCutShortLosesNothingAndRepeatsNothing) {
  // Two nodes' buffers; pages of 3 until nothing is left.
  const auto a = page("a", 1, {{1, 1.0}, {2, 1.5}, {3, 2.5}, {4, 4.0}, {5, 6.0}});
  const auto b = page("b", 1, {{1, 1.2}, {2, 1.3}, {3, 5.0}});
  auto after = [](const NodeLogPage& all, const LogCursor& c, size_t limit) {
    NodeLogPage p = all;
    p.entries.clear();
    for (const auto& e : all.entries)
      if (e["seq"].get<uint64_t>() > startAfter(c, all.node, all.epoch) && p.entries.size() < limit)
        p.entries.push_back(e);
    p.more = !p.entries.empty() && p.entries.back() != all.entries.back();
    return p;
  };
  LogCursor cursor;
  std::multiset<std::string> seen;
  double lastTime = 0;
  for (int round = 0; round < 10; round++) {
    auto m = mergeLogPages({after(a, cursor, 3), after(b, cursor, 3)}, 3, cursor);
    for (const auto& e : m.entries) {
      seen.insert(e["node"].get<std::string>() + std::to_string(e["seq"].get<int>()));
      EXPECT_GE(e["time"].get<double>(), lastTime);
      lastTime = e["time"].get<double>();
    }
    cursor = m.cursor;
    if (!m.more) break;
  }
  EXPECT_EQ(seen, (std::multiset<std::string>{"a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"}));
}

TEST(LogMerge, KeepsANodesOwnOrderWhenItsClockStepsBack) {
  auto m = mergeLogPages({page("a", 1, {{1, 5.0}, {2, 4.9}})}, 10, {});
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0]["seq"], 1);
  EXPECT_EQ(m.cursor.at("a").seq, 2u);
}

TEST(LogMerge, KeepsTheNodesThatDidNotAnswerAndResetsARestartedOne) {
  const LogCursor c{{"gone", {1, 50}}, {"restarted", {1, 70}}};
  auto m = mergeLogPages({page("restarted", 2, {})}, 10, c);
  EXPECT_EQ(m.cursor.at("gone").seq, 50u);
  EXPECT_EQ(m.cursor.at("restarted").epoch, 2);
  EXPECT_EQ(m.cursor.at("restarted").seq, 0u);
}

TEST(LogMerge, AFilteredPageMovesANodePastWhatItLookedAt) {
  // Node a looked up to seq 90 and found two matches; b found one at 5 but
  // the merged page had room for two lines only.
  auto a = page("a", 1, {{10, 1.0}, {20, 3.0}});
  a.scannedTo = 90;
  auto b = page("b", 1, {{5, 2.0}});
  b.scannedTo = 70;
  auto m = mergeLogPages({a, b}, 2, {});
  EXPECT_EQ(m.cursor.at("a").seq, 10u);  // its line at 20 is still to come
  EXPECT_EQ(m.cursor.at("b").seq, 70u);  // all of its page taken
  EXPECT_TRUE(m.more);
  auto rest = mergeLogPages({page("a", 1, {{20, 3.0}}), page("b", 1, {})}, 2, m.cursor);
  EXPECT_EQ(rest.entries.size(), 1u);
  EXPECT_EQ(rest.cursor.at("b").seq, 70u);
}

TEST(LogMerge, ATailKeepsTheNewestAndPutsEveryNodeAtItsEnd) {
  auto a = page("a", 1, {{1, 1.0}, {2, 4.0}});
  a.scannedTo = 9;
  auto b = page("b", 2, {{7, 2.0}, {8, 3.0}});
  b.scannedTo = 8;
  auto m = mergeLogTail({a, b}, 3, {{"gone", {3, 33}}});
  std::vector<double> times;
  for (const auto& e : m.entries) times.push_back(e["time"].get<double>());
  EXPECT_EQ(times, (std::vector<double>{2.0, 3.0, 4.0}));
  EXPECT_EQ(formatLogCursor(m.cursor), "a=1-9,b=2-8,gone=3-33");
  EXPECT_FALSE(m.more);
}

}  // namespace
}  // namespace fn0::admin
