// The key-value store's conformance suite: every TEST_P runs on SQLite and
// on PostgreSQL (a server from tests/servers/with_servers.py, a schema of
// its own per test), through KvService as the node uses it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "kv/guest_api.h"
#include "kv/kv_service.h"

namespace fn0::kv {
namespace {

std::string postgresUrl() {
  const char* u = std::getenv("FN0_TEST_POSTGRES_URL");
  return u ? u : "";
}

class Kv : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int n = 0;
    const std::string name = "fn0-kv-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (GetParam() == "postgres") {
      ASSERT_FALSE(postgresUrl().empty())
          << "FN0_TEST_POSTGRES_URL is not set: run this through tests/servers/with_servers.py --postgres";
      const std::string schema = "kv_" + std::to_string(::getpid()) + "_" + std::to_string(n);
      auto admin = registry::openPostgres(postgresUrl());
      admin->script("CREATE SCHEMA " + schema);
      url_ = postgresUrl() + "?options=-csearch_path%3D" + schema;
    }
    svc_ = open();
    ASSERT_TRUE(svc_);
  }
  void TearDown() override {
    svc_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<KvService> open() {
    auto r = url_.empty() ? KvService::openSqlite((dir_ / "kv.db").string()) : KvService::openPostgres(url_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // Runs `f` on a worker; the error's code, or "" on success.
  std::string run(bool write, std::function<void(KvStore&)> f, KvService* on = nullptr) {
    auto r = (on ? on : svc_.get())->runAndWait(write, std::move(f));
    return r.ok() ? "" : r.error().code;
  }
  std::optional<std::string> get(const std::string& b, const std::string& k) {
    std::optional<std::string> v;
    EXPECT_EQ(run(false, [&](KvStore& s) { v = s.get(b, k); }), "");
    return v;
  }
  KvUsage usage(const std::string& b) {
    KvUsage u;
    EXPECT_EQ(run(false, [&](KvStore& s) { u = s.usage(b); }), "");
    return u;
  }
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<KvService> svc_;
};

INSTANTIATE_TEST_SUITE_P(Backends, Kv, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

constexpr uint64_t kMax = 1 << 20;

TEST_P(Kv, SetGetDeleteExistsWithBinaryValues) {
  std::string binary;
  for (int i = 0; i < 256; i++) binary.push_back(static_cast<char>(i));
  binary += std::string("\0\0\xff", 3);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "k", binary, kMax); }), "");
  EXPECT_EQ(get("fn/a", "k"), binary);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "empty", "", kMax); }), "");
  EXPECT_EQ(get("fn/a", "empty"), std::string());
  EXPECT_FALSE(get("fn/a", "missing"));
  EXPECT_FALSE(get("fn/b", "k")) << "buckets are separate";
  bool there = false;
  EXPECT_EQ(run(false, [&](KvStore& s) { there = s.exists("fn/a", "k"); }), "");
  EXPECT_TRUE(there);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.remove("fn/a", "k"); }), "");
  EXPECT_FALSE(get("fn/a", "k"));
  EXPECT_EQ(run(true, [&](KvStore& s) { s.remove("fn/a", "k"); }), "") << "deleting a missing key is no error";
  EXPECT_EQ(run(false, [&](KvStore& s) { there = s.exists("fn/a", "k"); }), "");
  EXPECT_FALSE(there);
}

TEST_P(Kv, UsageCountsKeysAndBytesAndTheLimitRefusesGrowthOnly) {
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "abc", std::string(100, 'x'), 200); }), "");
  EXPECT_EQ(usage("fn/a").bytes, 103u);
  EXPECT_EQ(usage("fn/a").keys, 1u);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "abc", std::string(50, 'x'), 200); }), "");
  EXPECT_EQ(usage("fn/a").bytes, 53u);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "def", std::string(200, 'x'), 200); }), "kv-bucket-full");
  EXPECT_FALSE(get("fn/a", "def")) << "a refused write leaves nothing";
  EXPECT_EQ(usage("fn/a").bytes, 53u);
  // Over the limit already (the limit was lowered): shrinking still works.
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "abc", std::string(10, 'x'), 20); }), "");
  EXPECT_EQ(run(true, [&](KvStore& s) { s.remove("fn/a", "abc"); }), "");
  EXPECT_EQ(usage("fn/a").bytes, 0u);
  EXPECT_EQ(usage("fn/a").keys, 0u);
}

TEST_P(Kv, IncrementCountsFromZeroAndRefusesWhatIsNotANumber) {
  uint64_t n = 0;
  EXPECT_EQ(run(true, [&](KvStore& s) { n = s.increment("fn/a", "c", 5, kMax); }), "");
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(run(true, [&](KvStore& s) { n = s.increment("fn/a", "c", 2, kMax); }), "");
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(get("fn/a", "c"), "7") << "stored as a decimal number, as other hosts do";
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "t", "seven", kMax); }), "");
  EXPECT_EQ(run(true, [&](KvStore& s) { s.increment("fn/a", "t", 1, kMax); }), "kv-not-a-number");
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "big", "18446744073709551615", kMax); }), "");
  EXPECT_EQ(run(true, [&](KvStore& s) { s.increment("fn/a", "big", 1, kMax); }), "kv-not-a-number");
  EXPECT_EQ(get("fn/a", "big"), "18446744073709551615");
  EXPECT_EQ(parseCounter("007"), 7u);
  EXPECT_FALSE(parseCounter("-1"));
  EXPECT_FALSE(parseCounter(" 1"));
  EXPECT_FALSE(parseCounter("18446744073709551616"));
}

TEST_P(Kv, SignedIncrementAndCompareAndSwap) {
  int64_t n = 0;
  EXPECT_EQ(run(true, [&](KvStore& s) { n = s.incrementSigned("fn/a", "s", -5, kMax); }), "");
  EXPECT_EQ(n, -5);
  EXPECT_EQ(get("fn/a", "s"), "-5");
  EXPECT_EQ(run(true, [&](KvStore& s) { n = s.incrementSigned("fn/a", "s", 12, kMax); }), "");
  EXPECT_EQ(n, 7);
  EXPECT_EQ(run(true, [&](KvStore& s) { s.incrementSigned("fn/a", "s", INT64_MAX, kMax); }), "kv-not-a-number");
  EXPECT_EQ(parseSignedCounter("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(parseSignedCounter("-9223372036854775809"));
  EXPECT_FALSE(parseSignedCounter("9223372036854775808"));
  EXPECT_FALSE(parseSignedCounter("-"));
  EXPECT_FALSE(parseSignedCounter("+1"));

  KvStore::SwapResult r;
  EXPECT_EQ(run(true, [&](KvStore& s) { r = s.swap("fn/a", "w", std::nullopt, "first", kMax); }), "");
  EXPECT_TRUE(r.swapped);
  EXPECT_EQ(run(true, [&](KvStore& s) { r = s.swap("fn/a", "w", std::nullopt, "second", kMax); }), "");
  EXPECT_FALSE(r.swapped) << "the key exists now";
  EXPECT_EQ(r.current, std::optional<std::string>("first"));
  EXPECT_EQ(run(true, [&](KvStore& s) { r = s.swap("fn/a", "w", std::string("stale"), "third", kMax); }), "");
  EXPECT_FALSE(r.swapped);
  EXPECT_EQ(run(true, [&](KvStore& s) { r = s.swap("fn/a", "w", std::string("first"), "third", kMax); }), "");
  EXPECT_TRUE(r.swapped);
  EXPECT_EQ(get("fn/a", "w"), "third");
  EXPECT_EQ(run(true, [&](KvStore& s) { s.swap("fn/a", "w", std::string("third"), std::string(200, 'x'), 100); }),
            "kv-bucket-full")
      << "a swap is a write like any other";
  EXPECT_EQ(get("fn/a", "w"), "third");
}

TEST_P(Kv, ListKeysPagesInWriteOrderWithoutRepeats) {
  EXPECT_EQ(run(true, [&](KvStore& s) {
              for (int i = 0; i < 25; i++) s.set("fn/a", "k" + std::to_string(100 - i), "v", kMax);
            }),
            "");
  std::vector<std::string> seen;
  std::optional<uint64_t> cursor;
  int pages = 0;
  do {
    KvStore::KeyPage page;
    EXPECT_EQ(run(false, [&](KvStore& s) { page = s.listKeys("fn/a", cursor, 10); }), "");
    seen.insert(seen.end(), page.keys.begin(), page.keys.end());
    cursor = page.next;
    pages++;
  } while (cursor && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "k100");
  EXPECT_EQ(seen.back(), "k76");
}

TEST_P(Kv, ScanTakesAPrefixInKeyOrder) {
  EXPECT_EQ(run(true, [&](KvStore& s) {
              s.setMany("fn/a", {{"user/2", "b"}, {"user/1", "a"}, {"users", "x"}, {"user/3", "c"}, {"u", "y"}},
                        kMax);
            }),
            "");
  std::vector<KvEntry> got;
  EXPECT_EQ(run(false, [&](KvStore& s) { got = s.scan("fn/a", "user/", "", 100); }), "");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].key, "user/1");
  EXPECT_EQ(got[2].value, "c");
  EXPECT_EQ(run(false, [&](KvStore& s) { got = s.scan("fn/a", "user/", "user/1", 1); }), "");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, "user/2");
  EXPECT_EQ(usage("fn/a").keys, 5u);
  std::vector<std::optional<std::string>> many;
  EXPECT_EQ(run(false, [&](KvStore& s) { many = s.getMany("fn/a", {"u", "nope", "users"}); }), "");
  EXPECT_EQ(many, (std::vector<std::optional<std::string>>{"y", std::nullopt, "x"}));
  EXPECT_EQ(run(true, [&](KvStore& s) { s.removeMany("fn/a", {"u", "users", "nope"}); }), "");
  EXPECT_EQ(usage("fn/a").keys, 3u);
  uint64_t dropped = 0;
  EXPECT_EQ(run(true, [&](KvStore& s) { dropped = s.dropBucket("fn/a"); }), "");
  EXPECT_EQ(dropped, 3u);
  EXPECT_FALSE(get("fn/a", "user/1"));
}

TEST_P(Kv, ARefusedSetManyWritesNothing) {
  EXPECT_EQ(run(true, [&](KvStore& s) { s.setMany("fn/a", {{"a", "1"}, {"b", std::string(300, 'x')}}, 100); }),
            "kv-bucket-full");
  EXPECT_FALSE(get("fn/a", "a"));
  EXPECT_EQ(usage("fn/a").keys, 0u);
}

// The jobs of one batch: a refused one is rolled back alone.
TEST_P(Kv, ConcurrentJobsAreIsolatedFromEachOthersRefusals) {
  std::vector<std::future<Result<void>>> results;
  for (int i = 0; i < 50; i++)
    results.push_back(std::async(std::launch::async, [&, i] {
      return svc_->runAndWait(true, [i](KvStore& s) {
        if (i % 2)
          s.increment("fn/a", "text", 1, kMax);  // refused: not a number
        else
          s.increment("fn/a", "n", 1, kMax);
      });
    }));
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "text", "x", kMax); }), "");
  for (auto& r : results) r.get();
  EXPECT_EQ(get("fn/a", "n"), "25");
}

TEST_P(Kv, AThousandConcurrentIncrementsAreExact) {
  // Two services = two nodes on PostgreSQL (two connections pools).
  auto second = open();
  ASSERT_TRUE(second);
  if (GetParam() == "sqlite") second.reset();  // one node owns an SQLite file
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++)
    threads.emplace_back([&, t] {
      KvService* on = (second && t % 2) ? second.get() : svc_.get();
      for (int i = 0; i < 125; i++)
        if (!on->runAndWait(true, [](KvStore& s) { s.increment("fn/a", "count", 1, kMax); }).ok()) failures++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(get("fn/a", "count"), "1000");
}

TEST_P(Kv, WritesSurviveAReopen) {
  EXPECT_EQ(run(true, [&](KvStore& s) { s.set("fn/a", "k", "v", kMax); }), "");
  svc_.reset();
  svc_ = open();
  ASSERT_TRUE(svc_);
  EXPECT_EQ(get("fn/a", "k"), "v");
  EXPECT_EQ(usage("fn/a").keys, 1u);
}

TEST(KvLimits, AFunctionsSettingsOnlyTightenTheNodes) {
  const KvLimits node{512, 1 << 20, 1000, 64 << 20};
  registry::FunctionSettings s;
  s.kvMaxValueBytes = 100;
  s.kvMaxOperations = 5000;  // above the node's: the node's stays
  s.kvMaxBytes = 0;
  const auto l = functionKvLimits(s, node);
  EXPECT_EQ(l.maxKeyBytes, 512u);
  EXPECT_EQ(l.maxValueBytes, 100u);
  EXPECT_EQ(l.maxOpsPerRequest, 1000u);
  EXPECT_EQ(l.maxBytes, 0u);
  EXPECT_EQ(functionBucket("hello"), "fn/hello");
  EXPECT_NE(functionBucket("team"), sharedBucket("team")) << "a shared bucket never is a function's own";
}

TEST(KvPostgres, AnUnreachableServerIsKvUnavailable) {
  auto r = KvService::openPostgres("postgresql://nobody@127.0.0.1:1/none", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("key-value store"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fn0::kv
