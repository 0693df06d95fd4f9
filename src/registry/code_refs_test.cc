// The garbage collector's registry statements (code_refs.h) on each
// backend, with two Registry objects on one database standing for two
// nodes: a mark and a batch announcement are ordered, the lease is one at
// a time and expires, retention never deletes an aliased version.
#include "registry/code_refs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "registry/sql.h"

namespace fn0::registry {
namespace {

class Refs : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int n = 0;
    const std::string name = "fn0-coderefs-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (GetParam() == "postgres") {
      const char* base = std::getenv("FN0_TEST_POSTGRES_URL");
      ASSERT_TRUE(base) << "FN0_TEST_POSTGRES_URL is not set: run this through tests/servers/with_servers.py --postgres";
      const std::string schema = "r" + std::to_string(::getpid()) + "_" + std::to_string(n);
      openPostgres(base)->script("CREATE SCHEMA " + schema);
      url_ = std::string(base) + "?options=-csearch_path%3D" + schema;
    }
    one_ = open();
    two_ = open();
    ASSERT_TRUE(one_ && two_);
  }
  void TearDown() override {
    one_.reset();
    two_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Registry> open() {
    auto r = Registry::open(url_, dir_, nullptr);  // no secrets here
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Registry> one_, two_;  // two nodes
};

INSTANTIATE_TEST_SUITE_P(Backends, Refs, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

const std::string kH(64, 'c'), kK(64, 'd');

TEST_P(Refs, AMarkAndABatchAreOrderedAcrossNodes) {
  CodeRefs gc(*one_), deploy(*two_);
  std::string other;
  ASSERT_TRUE(*gc.acquire("node-1", 60'000, &other));
  // Marked first: the batch's referenced set has it.
  ASSERT_TRUE(*deploy.markUpload(kH));
  auto refs = gc.beginDeleting("node-1", 60'000, kMarkLifetimeMs);
  ASSERT_TRUE(refs.ok()) << refs.error().message;
  EXPECT_TRUE(refs->count(kH));
  // Batch first: the mark is refused until it ends.
  EXPECT_FALSE(*deploy.markUpload(kK));
  ASSERT_TRUE(gc.endDeleting("node-1").ok());
  EXPECT_TRUE(*deploy.markUpload(kK));
  // A version row made on the other node is in the next batch's set.
  ASSERT_TRUE(two_->addVersion("f", kK, 1, true).ok());
  refs = gc.beginDeleting("node-1", 60'000, kMarkLifetimeMs);
  ASSERT_TRUE(refs.ok());
  EXPECT_TRUE(refs->count(kK));
  ASSERT_TRUE(gc.endDeleting("node-1").ok());
  ASSERT_TRUE(gc.release("node-1").ok());
}

TEST_P(Refs, TheVersionRowGivesTheMarkBackOncePerDeploy) {
  CodeRefs refs(*one_);
  // Two deploys of the same bytes at once: two marks, each version row gives one back.
  ASSERT_TRUE(*refs.markUpload(kH));
  ASSERT_TRUE(*refs.markUpload(kH));
  ASSERT_TRUE(two_->addVersion("a", kH, 1, true).ok());
  EXPECT_TRUE(refs.state(kMarkLifetimeMs)->marked.count(kH));
  ASSERT_TRUE(two_->addVersion("b", kH, 1, true).ok());
  EXPECT_FALSE(refs.state(kMarkLifetimeMs)->marked.count(kH));
  // A mark older than its lifetime no longer counts, and a batch drops it.
  ASSERT_TRUE(*refs.markUpload(kK));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(refs.state(10)->marked.count(kK));
  std::string other;
  ASSERT_TRUE(*refs.acquire("n", 60'000, &other));
  auto set = refs.beginDeleting("n", 60'000, 10);
  ASSERT_TRUE(set.ok());
  EXPECT_FALSE(set->count(kK));
  EXPECT_TRUE(set->count(kH));  // a and b's versions
  EXPECT_FALSE(refs.state(kMarkLifetimeMs)->marked.count(kK));  // dropped
}

TEST_P(Refs, OneLeaseAtATimeAcrossNodesAndAnExpiredOneIsFree) {
  CodeRefs one(*one_), two(*two_);
  std::string other;
  ASSERT_TRUE(*one.acquire("node-1", 60'000, &other));
  EXPECT_FALSE(*two.acquire("node-2", 60'000, &other));
  EXPECT_EQ(other, "node-1");
  EXPECT_TRUE(*one.acquire("node-1", 60'000, &other));  // renewing is fine
  ASSERT_TRUE(one.release("node-1").ok());
  ASSERT_TRUE(*two.acquire("node-2", 1, &other));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_TRUE(*one.acquire("node-1", 60'000, &other));  // node-2's expired
  auto lost = two.beginDeleting("node-2", 1000, kMarkLifetimeMs);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, kGcLeaseLost);
  // A batch of the old holder never blocks deploys once it has expired.
  ASSERT_TRUE(one.beginDeleting("node-1", 1, kMarkLifetimeMs).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(*two.markUpload(kH));
}

TEST_P(Refs, DeletingVersionsSparesAliasedOnesAndRepublishes) {
  for (char c : {'1', '2', '3'}) ASSERT_TRUE(one_->addVersion("f", std::string(64, c), 1, true).ok());
  CodeRefs refs(*one_);
  auto state = refs.state(kMarkLifetimeMs);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->versions.size(), 3u);
  EXPECT_EQ(state->aliased.at("f"), (std::set<int64_t>{3}));
  std::vector<CodeRefs::Version> plan;
  for (const auto& v : state->versions)
    if (v.number < 3) plan.push_back(v);
  // v1 is aliased after the plan was made: it stays.
  ASSERT_TRUE(two_->setAlias("f", "old", 1).ok());
  const auto before = one_->catalog()->generation;
  auto deleted = refs.deleteVersions(plan);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ((*deleted)[0].number, 2);
  EXPECT_GT(one_->catalog()->generation, before);
  EXPECT_EQ(one_->catalog()->functions.at("f").versionHashes.count(2), 0u);
  std::vector<int64_t> left;
  auto f = two_->function("f");
  ASSERT_TRUE(f.ok() && f->has_value());
  for (const auto& v : (*f)->versions) left.push_back(v.number);
  EXPECT_EQ(left, (std::vector<int64_t>{1, 3}));
}

}  // namespace
}  // namespace fn0::registry
