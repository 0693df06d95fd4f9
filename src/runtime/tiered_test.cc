// Tiered compilation (ComponentCache::compileBaselineFirst): the baseline
// compiler's artifact answers first, the optimized one replaces it on disk
// and in memory, a restart on a baseline artifact optimizes it from the
// original, and baseline code keeps every limit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <future>
#include <string_view>
#include <utility>

#include "common/files.h"
#include "common/sha256.h"
#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"

namespace fn0::runtime {
namespace {

using namespace std::chrono_literals;
using testing::ExchangeOptions;
using testing::get;
using testing::readFile;

ino_t inode(const std::filesystem::path& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A private artifact directory: the shared test cache would mix tiers.
class Tiered : public testing::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    char tmpl[] = "/tmp/fn0-tiered-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    own_ = tmpl;
  }
  void TearDown() override {
    RuntimeTest::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(own_, ec);
  }
  // A cache over the private directory that tiers every component.
  std::unique_ptr<ComponentCache> tieredCache() {
    auto c = std::make_unique<ComponentCache>(*engine_, own_, 1ull << 30);
    c->compileBaselineFirst(1);
    return c;
  }
  std::filesystem::path own_;
};

TEST_F(Tiered, BaselineCodeAnswersThenTheOptimizedReplacesIt) {
  auto cache = tieredCache();
  std::vector<std::string> optimized;
  cache->onOptimized([&](const std::string& h) { optimized.push_back(h); });
  auto hash = cache->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(cache->stats().baselineCompiles, 1u);
  cache->waitForOptimizer();
  EXPECT_TRUE(std::filesystem::exists(cache->artifactPath(*hash)));
  EXPECT_FALSE(std::filesystem::exists(cache->baselinePath(*hash))) << "the baseline artifact was left behind";
  EXPECT_EQ(cache->stats().optimized, 1u);
  EXPECT_EQ(optimized, std::vector<std::string>{*hash});
  auto c = cache->get(*hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ((*c)->tier(), Tier::Optimized);
  auto ex = testing::exchange(*engine_, *c, get("/"));
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "Hello from fn0 (C)!\n");
}

// The restart case: only a baseline artifact on disk (the node stopped
// before the optimizing compile ended). It is served, and optimized from
// the original the originals callback hands over; a component a request
// already holds keeps working after the swap.
TEST_F(Tiered, ABaselineArtifactFoundOnDiskIsServedAndOptimized) {
  const auto wasm = readFile(testing::example("hello-c"));
  const std::string hash = sha256Hex(wasm);
  auto artifact = compile(*engine_, wasm, Tier::Baseline);
  ASSERT_TRUE(artifact.ok()) << artifact.error().message;
  ComponentCache restarted(*engine_, own_, 1ull << 30);
  ASSERT_TRUE(writeFileAtomically(restarted.baselinePath(hash), artifact->bytes()).ok());
  ASSERT_FALSE(std::filesystem::exists(restarted.artifactPath(hash)));
  ASSERT_TRUE(restarted.hasArtifact(hash));
  int asked = 0;
  restarted.setOriginals([&](const std::string& h) -> Result<std::vector<uint8_t>> {
    asked++;
    EXPECT_EQ(h, hash);
    return wasm;
  });
  auto before = restarted.get(hash);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ((*before)->tier(), Tier::Baseline);
  EXPECT_EQ(testing::exchange(*engine_, *before, get("/")).status, 200);
  restarted.waitForOptimizer();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(restarted.stats().optimized, 1u);
  auto after = restarted.get(hash);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->tier(), Tier::Optimized) << "the resident baseline component was not replaced";
  EXPECT_EQ(restarted.stats().loads, 1u) << "the swap happened on the request path";
  EXPECT_FALSE(std::filesystem::exists(restarted.baselinePath(hash)));
  // Still works for whoever held it.
  auto ex = testing::exchange(*engine_, *before, get("/"));
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "Hello from fn0 (C)!\n");
}

// In a cluster: a component fetched from another node's deploy waits for
// that node's optimized artifact (setShared) instead of compiling one; it
// is taken as it is, not compiled again.
TEST_F(Tiered, AFetchedComponentTakesTheSharedOptimizedArtifact) {
  const auto wasm = readFile(testing::example("hello-c"));
  auto optimized = compile(*engine_, wasm, Tier::Optimized);
  ASSERT_TRUE(optimized.ok()) << optimized.error().message;
  auto cache = tieredCache();
  int asked = 0;
  ino_t written = 0;
  cache->setShared(
      [&](const std::string& h) {
        if (++asked < 3) return false;  // the deploying node is still compiling
        EXPECT_TRUE(writeFileAtomically(cache->artifactPath(h), optimized->bytes()).ok());
        written = inode(cache->artifactPath(h));
        return true;
      },
      10s, 20ms);
  auto hash = cache->prepare(wasm, /*fetched=*/true);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  cache->waitForOptimizer();
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(cache->stats().optimized, 1u);
  EXPECT_EQ(inode(cache->artifactPath(*hash)), written) << "compiled again instead of the shared one";
  auto c = cache->get(*hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ((*c)->tier(), Tier::Optimized);
  EXPECT_EQ(testing::exchange(*engine_, *c, get("/")).status, 200);
}

// The node that deployed it may have stopped: after the wait, the
// component is optimized here. A deploy on this node (not fetched) asks
// once and compiles at once.
TEST_F(Tiered, WithoutASharedArtifactTheWaitEndsInACompileOfItsOwn) {
  auto cache = tieredCache();
  int asked = 0;
  cache->setShared([&](const std::string&) { return ++asked, false; }, 300ms, 20ms);
  auto fetched = cache->prepare(readFile(testing::example("hello-c")), /*fetched=*/true);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  cache->waitForOptimizer();
  EXPECT_GE(asked, 5) << "it did not wait for a shared artifact";
  EXPECT_EQ(cache->stats().optimized, 1u);
  EXPECT_TRUE(std::filesystem::exists(cache->artifactPath(*fetched)));
  asked = 0;
  auto deployed = cache->prepare(readFile(testing::example("echo-c")));
  ASSERT_TRUE(deployed.ok()) << deployed.error().message;
  cache->waitForOptimizer();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(cache->stats().optimized, 2u);
}

// A baseline artifact is not fsync'd: after a power loss it can be there
// but empty. It is refused and removed, so that the caller compiles the
// component again instead of failing on it forever.
TEST_F(Tiered, ABaselineArtifactThatDoesNotLoadIsRemoved) {
  const std::string hash = sha256Hex(readFile(testing::example("hello-c")));
  ComponentCache restarted(*engine_, own_, 1ull << 30);
  ASSERT_TRUE(writeFileAtomically(restarted.baselinePath(hash), {}).ok());
  ASSERT_TRUE(restarted.hasArtifact(hash));
  auto got = restarted.get(hash);
  EXPECT_FALSE(got.ok());
  EXPECT_FALSE(std::filesystem::exists(restarted.baselinePath(hash)));
  EXPECT_FALSE(restarted.hasArtifact(hash)) << "a fetch would take the broken file for compiled code";
}

// A deploy queued behind another does not keep its bytes in memory: its
// turn asks the originals (the code library) for them.
TEST_F(Tiered, AQueuedComponentIsOptimizedFromItsOriginal) {
  auto cache = tieredCache();
  const auto second = readFile(testing::example("echo-c"));
  std::vector<std::string> asked;
  cache->setOriginals([&](const std::string& h) -> Result<std::vector<uint8_t>> {
    asked.push_back(h);
    return second;
  });
  // The first job holds the optimizer (in its callback) until the second
  // deploy is queued behind it.
  std::promise<void> queued;
  auto gate = queued.get_future().share();
  bool first = true;
  cache->onOptimized([&](const std::string&) {
    if (std::exchange(first, false)) gate.wait();
  });
  auto a = cache->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = cache->prepare(second);
  ASSERT_TRUE(b.ok()) << b.error().message;
  // Until its turn, the second baseline artifact is only in memory (a
  // memory file), and served from there: no load, nothing on disk.
  EXPECT_FALSE(std::filesystem::exists(cache->baselinePath(*b)));
  EXPECT_TRUE(cache->hasArtifact(*b));
  auto served = cache->get(*b);
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_EQ((*served)->tier(), Tier::Baseline);
  EXPECT_EQ(cache->stats().loads, 0u);
  EXPECT_EQ(testing::exchange(*engine_, *served, get("/")).status, 200);
  queued.set_value();
  cache->waitForOptimizer();
  EXPECT_EQ(asked, std::vector<std::string>{*b});
  EXPECT_EQ(cache->stats().optimized, 2u);
  EXPECT_TRUE(std::filesystem::exists(cache->artifactPath(*b)));
  EXPECT_FALSE(std::filesystem::exists(cache->baselinePath(*b)));
}

TEST_F(Tiered, AnOptimizingCompileThatCannotRunLeavesTheBaselineServing) {
  const auto wasm = readFile(testing::example("echo-c"));
  auto artifact = compile(*engine_, wasm, Tier::Baseline);
  ASSERT_TRUE(artifact.ok()) << artifact.error().message;
  ComponentCache cache(*engine_, own_, 1ull << 30);
  const std::string hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  ASSERT_TRUE(writeFileAtomically(cache.baselinePath(hash), artifact->bytes()).ok());
  cache.setOriginals([](const std::string&) -> Result<std::vector<uint8_t>> {
    return Error{"the code store is unreachable"};
  });
  auto c = cache.get(hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  cache.waitForOptimizer();
  EXPECT_EQ(cache.stats().optimizeFailures, 1u);
  EXPECT_EQ(cache.stats().optimized, 0u);
  EXPECT_TRUE(std::filesystem::exists(cache.baselinePath(hash)));
  auto again = cache.get(hash);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->tier(), Tier::Baseline);
  RequestHead post = get("/");
  post.method = "POST";
  auto ex = testing::exchange(*engine_, *again, post, "ping");
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.body, "ping");
}

// WASI 0.3 components need the async component model, which fn0 runs on
// the optimizing compiler only: compiled optimized at once.
TEST_F(Tiered, AWasi03ComponentIsCompiledOptimizedAtOnce) {
  auto cache = tieredCache();
  auto hash = cache->prepare(readFile(testing::guest("p3-rust")));
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(cache->stats().baselineCompiles, 0u);
  EXPECT_TRUE(std::filesystem::exists(cache->artifactPath(*hash)));
  EXPECT_FALSE(std::filesystem::exists(cache->baselinePath(*hash)));
}

TEST_F(Tiered, ABrokenComponentIsRefusedWithTheOptimizingCompilersError) {
  auto cache = tieredCache();
  auto bytes = readFile(testing::guest("unknown-import"));
  auto r = cache->prepare(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fn0:missing/nothing"), std::string::npos) << r.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(own_)) << "a refused component left an artifact";
}

// Baseline code against every limit, beside the optimized code of the same
// guest: the same outcome for each hostile request, and a healthy engine.
TEST_F(Tiered, BaselineCodeKeepsEveryLimit) {
  const auto wasm = readFile(testing::guest("hostile-c"));
  auto path = own_ / "hostile.baseline.cwasm";
  auto artifact = compile(*engine_, wasm, Tier::Baseline);
  ASSERT_TRUE(artifact.ok()) << artifact.error().message;
  ASSERT_TRUE(writeFileAtomically(path, artifact->bytes()).ok());
  auto baseline = Component::load(*engine_, path, Tier::Baseline);
  ASSERT_TRUE(baseline.ok()) << baseline.error().message;
  auto optimized = load(testing::guest("hostile-c"));
  ASSERT_TRUE(optimized);
  ExchangeOptions o;
  o.invoke.limits.maxMemoryBytes = 16ull << 20;
  for (const char* p : {"/loop", "/alloc", "/trap", "/recurse", "/no-response"}) {
    // Only /loop meets the CPU limit: the others end by their own, however
    // slowly a loaded machine runs baseline code (16 MiB of page faults
    // once took /alloc past 50 ms).
    o.invoke.limits.cpuTime = std::string_view(p) == "/loop" ? 50ms : 2000ms;
    auto b = testing::exchange(*engine_, *baseline, get(p), {}, o);
    auto c = testing::exchange(*engine_, optimized, get(p), {}, o);
    EXPECT_EQ(b.outcome.kind, c.outcome.kind) << p << ": " << b.outcome.message << " / " << c.outcome.message;
    EXPECT_NE(b.outcome.kind, OutcomeKind::Ok) << p;
    EXPECT_EQ(b.outcome.message, c.outcome.message) << p;
    EXPECT_LT(b.outcome.wall, 5s) << p;
  }
  o.invoke.limits.cpuTime = 50ms;
  auto loop = testing::exchange(*engine_, *baseline, get("/loop"), {}, o);
  EXPECT_EQ(loop.outcome.kind, OutcomeKind::CpuLimit);
  EXPECT_GE(loop.outcome.cpu, 50ms);
  auto hello = load(testing::example("hello-c"));
  ASSERT_TRUE(hello);
  EXPECT_EQ(testing::exchange(*engine_, hello, get("/")).status, 200);
}

}  // namespace
}  // namespace fn0::runtime
