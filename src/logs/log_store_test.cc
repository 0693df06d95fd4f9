// The persistent log on a real SQLite file: lines survive reopening with
// their numbers, pages lose nothing, filters, retention by size and age
// (with a clock the test moves), deletion, and a full queue that drops and
// says so.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "logs/log_hub.h"
#include "logs/log_store.h"
#include "logs/log_writer.h"

namespace fn0::logs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fn0-logs-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<LogStore> openStore() {
    auto s = LogStore::open(dir_ / "logs.db");
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return std::move(*s);
  }
  std::shared_ptr<LogWriter> writer(WriterOptions o = {}) {
    o.onError = [](const Error& e) { ADD_FAILURE() << e.message; };
    return std::make_shared<LogWriter>(openStore(), std::move(o));
  }
  static std::vector<std::string> lines(const Page& p) {
    std::vector<std::string> out;
    for (const auto& e : p.entries) out.push_back(e.line);
    return out;
  }
  static Page read(LogWriter& w, const std::string& fn, Query q) {
    EXPECT_TRUE(w.flush(5s));
    auto p = w.store().read(fn, q);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return std::move(*p);
  }
  fs::path dir_;
};

TEST_F(LogStoreTest, LinesSurviveReopeningAndNumbersGoOn) {
  int64_t epoch = 0;
  uint64_t lastBefore = 0;
  {
    auto w = writer();
    w->append("f", "r1", 1, "before 1", 3);
    w->append("g", "r2", 2, "other function", 1);
    w->append("f", "r1", 2, "before 2", 3);
    auto p = read(*w, "f", {});
    ASSERT_EQ(lines(p), (std::vector<std::string>{"before 1", "before 2"}));
    EXPECT_EQ(p.entries[0].seq, 1u);
    EXPECT_EQ(p.entries[1].seq, 3u);  // the node's numbers: g's line took 2
    EXPECT_EQ(p.entries[1].stream, 2);
    EXPECT_EQ(p.entries[1].version, 3);
    EXPECT_EQ(p.entries[0].requestId, "r1");
    epoch = w->store().epoch();
    lastBefore = p.lastSeq;
  }
  auto w = writer();
  EXPECT_EQ(w->store().epoch(), epoch);  // cursors from before still hold
  w->append("f", "r3", 1, "after", 4);
  Query q;
  q.after = lastBefore;
  auto p = read(*w, "f", q);
  ASSERT_EQ(lines(p), (std::vector<std::string>{"after"}));
  EXPECT_GT(p.entries[0].seq, lastBefore);
  EXPECT_EQ(lines(read(*w, "f", {})), (std::vector<std::string>{"before 1", "before 2", "after"}));
}

TEST_F(LogStoreTest, PagesByScannedPositionLoseNothingAcrossAReopen) {
  std::vector<std::string> seen;
  Query q;
  q.limit = 4;
  {
    auto w = writer();
    for (int i = 0; i < 10; i++) {
      w->append("f", "r", 1, "line " + std::to_string(i), 1);
      w->append("noise", "r", 1, "noise", 1);
    }
    for (int i = 0; i < 2; i++) {
      auto p = read(*w, "f", q);
      for (auto& l : lines(p)) seen.push_back(l);
      EXPECT_TRUE(p.more);
      q.after = p.scannedTo;
    }
  }
  auto w = writer();
  for (int i = 10; i < 13; i++) w->append("f", "r", 1, "line " + std::to_string(i), 1);
  for (int round = 0; round < 10; round++) {
    auto p = read(*w, "f", q);
    for (auto& l : lines(p)) seen.push_back(l);
    q.after = p.scannedTo;
    if (!p.more) break;
  }
  ASSERT_EQ(seen.size(), 13u);
  for (int i = 0; i < 13; i++) EXPECT_EQ(seen[i], "line " + std::to_string(i));
  EXPECT_TRUE(read(*w, "f", q).entries.empty());
}

TEST_F(LogStoreTest, FindsByRequestIdTextAndTime) {
  auto clock = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000'000);
  WriterOptions o;
  o.now = [clock] { return fromMicros(clock->load()); };
  auto w = writer(o);
  for (int i = 0; i < 20; i++) {
    *clock += 1'000'000;  // a second apart
    w->append("f", "req-" + std::to_string(i % 4), i % 2 ? 2 : 1, i == 13 ? "the needle here" : "hay " + std::to_string(i), 1);
  }
  Query byId;
  byId.requestId = "req-1";
  auto p = read(*w, "f", byId);
  EXPECT_EQ(lines(p), (std::vector<std::string>{"hay 1", "hay 5", "hay 9", "the needle here", "hay 17"}));
  EXPECT_FALSE(p.more);
  byId.limit = 2;
  p = read(*w, "f", byId);
  EXPECT_EQ(lines(p), (std::vector<std::string>{"hay 1", "hay 5"}));
  EXPECT_TRUE(p.more);
  byId.after = p.scannedTo;
  EXPECT_EQ(lines(read(*w, "f", byId)), (std::vector<std::string>{"hay 9", "the needle here"}));

  Query text;
  text.text = "needle";
  p = read(*w, "f", text);
  ASSERT_EQ(lines(p), (std::vector<std::string>{"the needle here"}));
  EXPECT_EQ(p.entries[0].requestId, "req-1");
  text.text = "Needle";  // case-sensitive, like grep
  EXPECT_TRUE(read(*w, "f", text).entries.empty());

  const int64_t t0 = 1'700'000'000'000'000;
  Query window;
  window.sinceUs = t0 + 5'000'000;   // lines 4..
  window.untilUs = t0 + 8'000'000;   // ..6
  EXPECT_EQ(lines(read(*w, "f", window)), (std::vector<std::string>{"hay 4", "hay 5", "hay 6"}));
  Query since;
  since.sinceUs = t0 + 18'500'000;
  EXPECT_EQ(lines(read(*w, "f", since)), (std::vector<std::string>{"hay 18", "hay 19"}));

  Query tail;
  tail.tail = true;
  tail.limit = 2;
  tail.requestId = "req-0";
  p = read(*w, "f", tail);
  EXPECT_EQ(lines(p), (std::vector<std::string>{"hay 12", "hay 16"}));
  EXPECT_EQ(p.scannedTo, p.lastSeq);
  EXPECT_TRUE(read(*w, "nobody", {}).entries.empty());
}

TEST_F(LogStoreTest, RetentionBySizeKeepsTheNewest) {
  WriterOptions o;
  o.retentionEvery = 1h;  // passes only when the test asks
  const uint64_t maxBytes = 50 * (100 + 1 + kLineOverhead);
  o.retentionOf = [&](const std::string& fn) -> std::optional<Retention> {
    return fn == "big" ? Retention{maxBytes, 0s} : Retention{};
  };
  auto w = writer(o);
  for (int i = 0; i < 300; i++) {
    std::string line = std::to_string(i);
    line.resize(100, '.');
    w->append("big", "r", 1, line, 1);
    w->append("small", "r", 1, line, 1);
  }
  ASSERT_TRUE(w->flush(5s));
  w->enforceSoon();
  for (int i = 0; i < 100 && w->stats().deleted < 250; i++) std::this_thread::sleep_for(20ms);
  Query all;
  all.limit = 10000;
  auto big = read(*w, "big", all);
  ASSERT_EQ(big.entries.size(), 50u);
  EXPECT_EQ(big.entries.front().line.substr(0, 4), "250.");
  EXPECT_EQ(big.entries.back().line.substr(0, 4), "299.");
  EXPECT_EQ(read(*w, "small", all).entries.size(), 300u);
  auto usage = w->store().usage();
  ASSERT_TRUE(usage);
  for (const auto& [fn, bytes] : *usage)
    if (fn == "big") {
      EXPECT_LE(bytes, maxBytes);
    }
  EXPECT_EQ(w->stats().deleted, 250u);
}

TEST_F(LogStoreTest, RetentionByAgeDeletesWhatTheClockLeftBehindInBoundedPasses) {
  auto clock = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000'000);
  WriterOptions o;
  o.now = [clock] { return fromMicros(clock->load()); };
  o.retentionEvery = 1h;
  o.retentionBudget = 7;  // several passes to get there
  o.retentionOf = [](const std::string&) -> std::optional<Retention> { return Retention{0, 3600s}; };
  auto w = writer(o);
  for (int i = 0; i < 30; i++) w->append("f", "old", 1, "old " + std::to_string(i), 1);
  *clock += 2 * 3600'000'000LL;  // two hours later
  for (int i = 0; i < 5; i++) w->append("f", "new", 1, "new " + std::to_string(i), 1);
  ASSERT_TRUE(w->flush(5s));
  w->enforceSoon();
  for (int i = 0; i < 200 && w->stats().deleted < 30; i++) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(w->stats().deleted, 30u);
  EXPECT_EQ(lines(read(*w, "f", {})),
            (std::vector<std::string>{"new 0", "new 1", "new 2", "new 3", "new 4"}));
}

TEST_F(LogStoreTest, DeletingAFunctionDeletesItsLinesAndANewOneStartsEmpty) {
  WriterOptions o;
  bool exists = true;
  std::mutex mu;
  o.retentionOf = [&](const std::string& fn) -> std::optional<Retention> {
    std::lock_guard lock(mu);
    if (fn == "elsewhere" && !exists) return std::nullopt;
    return Retention{};
  };
  auto w = writer(o);
  LogHub hub(w);
  hub.get("f")->append("r", 1, "old f");
  hub.get("elsewhere")->append("r", 1, "old elsewhere");
  ASSERT_EQ(hub.read("f", {})->entries.size(), 1u);
  hub.drop("f");
  EXPECT_TRUE(hub.read("f", {})->entries.empty());  // at once: the read waits for the drop
  hub.get("f")->append("r", 1, "new f");
  EXPECT_EQ(lines(*hub.read("f", {})), (std::vector<std::string>{"new f"}));
  // Deleted through another node: the retention pass sees it gone.
  {
    std::lock_guard lock(mu);
    exists = false;
  }
  w->enforceSoon();
  for (int i = 0; i < 200 && hub.read("elsewhere", {})->lastSeq != 0; i++) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(hub.read("elsewhere", {})->entries.empty());
  for (int i = 0; i < 200 && w->stats().deleted < 2; i++) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(w->stats().deleted, 2u);  // old f and old elsewhere, from the file
}

TEST_F(LogStoreTest, AFullQueueDropsCountsAndLeavesAMarker) {
  WriterOptions o;
  o.queueBytes = 2048;  // a dozen lines
  auto w = writer(o);
  const int n = 20000;
  for (int i = 0; i < n; i++) w->append("f", "r", 1, "flood " + std::to_string(i), 1);
  ASSERT_TRUE(w->flush(10s));
  const auto s = w->stats();
  EXPECT_GT(s.dropped, 0u);
  Query all;
  all.limit = 100000;
  auto p = read(*w, "f", all);
  uint64_t flood = 0, marked = 0;
  for (const auto& e : p.entries) {
    if (e.line.rfind("flood ", 0) == 0) {
      flood++;
    } else {
      ASSERT_EQ(e.line.rfind("fn0: ", 0), 0u) << e.line;
      EXPECT_NE(e.line.find("dropped here"), std::string::npos);
      EXPECT_EQ(e.stream, 2);
      marked += std::stoull(e.line.substr(5));
    }
  }
  EXPECT_EQ(flood + s.dropped, static_cast<uint64_t>(n));
  EXPECT_EQ(marked, s.dropped);  // every dropped line is accounted for in a marker
  uint64_t last = 0;
  for (const auto& e : p.entries) {
    EXPECT_GT(e.seq, last);
    last = e.seq;
  }
}

TEST_F(LogStoreTest, ATextSearchLooksAtABoundedNumberOfLinesPerPage) {
  WriterOptions o;
  o.queueBytes = 256u << 20;  // none dropped
  auto w = writer(o);
  const size_t n = kMaxScannedPerPage + 10;
  for (size_t i = 0; i < n; i++) w->append("f", "r", 1, i + 1 == n ? "needle" : "hay", 1);
  Query q;
  q.text = "needle";
  auto first = read(*w, "f", q);
  EXPECT_TRUE(first.entries.empty());
  EXPECT_TRUE(first.more);
  EXPECT_GT(first.scannedTo, 0u);
  q.after = first.scannedTo;
  auto second = read(*w, "f", q);
  EXPECT_EQ(lines(second), (std::vector<std::string>{"needle"}));
  EXPECT_FALSE(second.more);
}

}  // namespace
}  // namespace fn0::logs
