// The collector on a real SQLite registry and a real directory store:
// exactly the unreferenced files go, a dry run lists the same and deletes
// nothing, a deploy's mark keeps its hash, a deploy waits out a batch.
#include "gc/collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "registry/code_refs.h"

namespace fn0::gc {
namespace {

namespace fs = std::filesystem;
const std::string kFp = "0123456789abcdef";

// A hash made of one hex digit (the collector only knows hex names).
std::string hashOf(char c) { return std::string(64, c); }

std::set<std::string> filesUnder(const fs::path& root) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(root).generic_string());
  return out;
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = fs::temp_directory_path() / ("fn0-gc-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "artifacts");
    auto r = registry::Registry::openSqlite(dir_ / "registry.db", nullptr);  // no secrets here
    ASSERT_TRUE(r.ok()) << r.error().message;
    reg_ = std::move(r).value();
    store_ = store::openDirectoryStore(dir_ / "blobs");
  }
  void TearDown() override {
    reg_.reset();
    fs::remove_all(dir_);
  }
  Collector collector(uint32_t keep) {
    CollectorConfig c;
    c.keepVersions = keep;
    c.grace = std::chrono::milliseconds(0);
    c.holder = "test";
    c.localArtifacts = dir_ / "artifacts";
    return Collector(*reg_, *store_, c);
  }
  void original(char h) {
    const std::vector<uint8_t> bytes(10, static_cast<uint8_t>(h));
    ASSERT_TRUE(store_->put(store::componentKey(hashOf(h)), bytes).ok());
  }
  void artifact(char h) {
    const std::vector<uint8_t> bytes(20, static_cast<uint8_t>(h));
    ASSERT_TRUE(store_->put(store::artifactKey(hashOf(h), kFp), bytes).ok());
  }
  void localArtifact(char h) { std::ofstream(dir_ / "artifacts" / (hashOf(h) + "-" + kFp + ".cwasm")) << "x"; }
  void deploy(const std::string& fn, char h) { ASSERT_TRUE(reg_->addVersion(fn, hashOf(h), 10, true).ok()); }

  fs::path dir_;
  std::unique_ptr<registry::Registry> reg_;
  std::unique_ptr<store::CodeStore> store_;
};

TEST_F(CollectorTest, RemovesExactlyTheUnreferencedFilesAndADryRunListsTheSame) {
  // a: v1..v4, v1 aliased "old"; with 2 kept, v2 goes.
  for (char h : {'a', 'b', 'c', 'd'}) deploy("a", h);
  ASSERT_TRUE(reg_->setAlias("a", "old", 1).ok());
  // b and c share bytes 5; c is deleted: 5 stays for b.
  deploy("b", '5');
  deploy("c", '5');
  // d is deleted: its e goes.
  deploy("d", 'e');
  ASSERT_TRUE(reg_->deleteFunction("c").ok());
  ASSERT_TRUE(reg_->deleteFunction("d").ok());
  for (char h : {'a', 'b', 'c', 'd', '5', 'e'}) original(h);
  for (char h : {'b', 'c', 'e'}) artifact(h);
  for (char h : {'a', 'b'}) localArtifact(h);
  ASSERT_TRUE(store_->put("other/notes", std::vector<uint8_t>{1}).ok());  // not fn0's: stays

  const auto blobsBefore = filesUnder(dir_ / "blobs"), localBefore = filesUnder(dir_ / "artifacts");
  const std::set<std::string> expectGone = {store::componentKey(hashOf('b')), store::componentKey(hashOf('e')),
                                            store::artifactKey(hashOf('b'), kFp), store::artifactKey(hashOf('e'), kFp),
                                            hashOf('b') + "-" + kFp + ".cwasm"};

  auto dry = collector(2).collect(true);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  std::set<std::string> listed;
  for (const auto& o : dry->objects) listed.insert(o.key);
  EXPECT_EQ(listed, expectGone);
  ASSERT_EQ(dry->versions.size(), 1u);
  EXPECT_EQ(dry->versions[0].function, "a");
  EXPECT_EQ(dry->versions[0].number, 2);
  EXPECT_EQ(filesUnder(dir_ / "blobs"), blobsBefore);
  EXPECT_EQ(filesUnder(dir_ / "artifacts"), localBefore);
  EXPECT_EQ((*reg_->function("a"))->versions.size(), 4u);

  auto c = collector(2);
  auto real = c.collect(false);
  ASSERT_TRUE(real.ok()) << real.error().message;
  EXPECT_TRUE(real->failures.empty());
  std::set<std::string> gone;
  uint64_t bytes = 0;
  for (const auto& o : real->objects) gone.insert(o.key), bytes += o.size;
  EXPECT_EQ(gone, expectGone);
  std::set<std::string> blobsLeft, localLeft;
  for (const auto& f : blobsBefore)
    if (!expectGone.count(f)) blobsLeft.insert(f);
  for (const auto& f : localBefore)
    if (!expectGone.count(f)) localLeft.insert(f);
  EXPECT_EQ(filesUnder(dir_ / "blobs"), blobsLeft);
  EXPECT_EQ(filesUnder(dir_ / "artifacts"), localLeft);
  std::vector<int64_t> numbers;
  auto a = reg_->function("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  for (const auto& v : (*a)->versions) numbers.push_back(v.number);
  EXPECT_EQ(numbers, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(c.stats().runs, 1u);
  EXPECT_EQ(c.stats().objectsDeleted, 5u);
  EXPECT_EQ(c.stats().versionsDeleted, 1u);
  EXPECT_EQ(c.stats().bytesFreed, bytes);
  EXPECT_EQ(bytes, 10u + 10u + 20u + 20u + 1u);

  // Nothing left to do.
  auto again = collector(2).collect(false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->objects.empty());
  EXPECT_TRUE(again->versions.empty());
}

TEST_F(CollectorTest, TheGracePeriodKeepsYoungObjects) {
  original('f');
  CollectorConfig cfg;
  cfg.grace = std::chrono::hours(1);
  cfg.holder = "test";
  Collector c(*reg_, *store_, cfg);
  auto r = c.collect(false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->objects.empty());
  EXPECT_EQ(r->keptYoung, 1u);
  EXPECT_TRUE(*store_->exists(store::componentKey(hashOf('f'))));
}

TEST_F(CollectorTest, ADeploysMarkKeepsItsHashUntilTheVersionRowTakesOver) {
  registry::CodeRefs refs(*reg_);
  // Marked (a deploy storing it), no version yet: kept.
  ASSERT_TRUE(*refs.markUpload(hashOf('9')));
  original('9');
  auto r = collector(20).collect(false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->objects.empty());
  EXPECT_TRUE(*store_->exists(store::componentKey(hashOf('9'))));
  // The version row gives the mark back; once the function is deleted the
  // hash is garbage.
  deploy("f", '9');
  ASSERT_TRUE(reg_->deleteFunction("f").ok());
  auto state = refs.state(registry::kMarkLifetimeMs);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->marked.empty());
  r = collector(20).collect(false);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_FALSE(*store_->exists(store::componentKey(hashOf('9'))));
}

TEST_F(CollectorTest, OneLeaseAtATimeAndADeployWaitsOutABatch) {
  registry::CodeRefs refs(*reg_);
  std::string other;
  ASSERT_TRUE(*refs.acquire("one", 60'000, &other));
  EXPECT_FALSE(*refs.acquire("two", 60'000, &other));
  EXPECT_EQ(other, "one");
  auto busy = collector(20).collect(false);  // holder "test"
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, kGcBusy);
  ASSERT_TRUE(refs.beginDeleting("one", 60'000, registry::kMarkLifetimeMs).ok());
  EXPECT_FALSE(*refs.markUpload(hashOf('w')));  // a batch is deleting
  // protectUpload waits until the batch ends.
  std::atomic<bool> ended{false}, returned{false};
  std::atomic<bool> endedFirst{false};
  auto c = collector(20);
  std::thread deployer([&] {
    auto p = c.protectUpload(hashOf('w'));
    endedFirst = ended.load();
    returned = p.ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ended = true;
  ASSERT_TRUE(refs.endDeleting("one").ok());
  deployer.join();
  EXPECT_TRUE(returned);
  EXPECT_TRUE(endedFirst);
  EXPECT_TRUE(refs.state(registry::kMarkLifetimeMs)->marked.count(hashOf('w')));
  // Released: another holder may take it; an expired lease is free too.
  ASSERT_TRUE(refs.release("one").ok());
  EXPECT_TRUE(*refs.acquire("two", 0, &other));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(*refs.acquire("three", 60'000, &other));
  auto lost = refs.beginDeleting("two", 1000, registry::kMarkLifetimeMs);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, registry::kGcLeaseLost);
}

}  // namespace
}  // namespace fn0::gc
