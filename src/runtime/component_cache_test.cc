// Compiling, rejecting bad components, the on-disk artifacts and the
// in-memory LRU.
#include "runtime/component_cache.h"

#include <gtest/gtest.h>

#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"

namespace fn0::runtime {
namespace {

using testing::readFile;
using testing::RuntimeTest;

class Cache : public RuntimeTest {
 protected:
  std::string rejection(const std::vector<uint8_t>& bytes) {
    auto r = cache_->prepare(bytes);
    EXPECT_FALSE(r.ok()) << "accepted a bad component";
    return r.ok() ? "" : r.error().message;
  }
};

TEST_F(Cache, RejectsBytesThatAreNotWasm) {
  std::string text = "<html>not wasm</html>";
  EXPECT_NE(rejection({text.begin(), text.end()}).find("not a WebAssembly binary"), std::string::npos);
  EXPECT_NE(rejection({}).find("not a WebAssembly binary"), std::string::npos);
}

TEST_F(Cache, RejectsACoreModuleAndSaysHowToAdaptIt) {
  auto msg = rejection(readFile(std::filesystem::path(FN0_EXAMPLES_DIR) / "hello-c.core.wasm"));
  EXPECT_NE(msg.find("core WebAssembly module"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wasm-tools component new"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsAComponentWithoutTheHandlerExport) {
  auto msg = rejection(readFile(testing::guest("no-export")));
  EXPECT_NE(msg.find("does not export wasi:http/incoming-handler"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsAComponentWhoseImportIsNotProvided) {
  auto msg = rejection(readFile(testing::guest("unknown-import")));
  EXPECT_NE(msg.find("imports something fn0 does not provide"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fn0:missing/nothing"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsTruncatedComponent) {
  auto bytes = readFile(testing::example("hello-c"));
  bytes.resize(bytes.size() / 2);
  EXPECT_NE(rejection(bytes).find("invalid component"), std::string::npos);
}

TEST_F(Cache, PrepareIsIdempotentAndKeyedByContent) {
  auto bytes = readFile(testing::example("hello-c"));
  auto a = cache_->prepare(bytes);
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto mtime = std::filesystem::last_write_time(cache_->artifactPath(*a));
  auto b = cache_->prepare(bytes);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 64u);  // sha256 hex
  EXPECT_EQ(std::filesystem::last_write_time(cache_->artifactPath(*a)), mtime) << "recompiled identical bytes";
}

TEST_F(Cache, ServesFromMemoryAfterTheFirstLoad) {
  auto hash = cache_->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(hash.ok());
  auto first = cache_->get(*hash);
  auto second = cache_->get(*hash);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(cache_->stats().loads, 1u);
  EXPECT_EQ(cache_->stats().hits, 1u);
  EXPECT_GT(cache_->stats().bytes, 0u);
}

TEST_F(Cache, ANewProcessLoadsTheArtifactWithoutCompiling) {
  auto hash = cache_->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(hash.ok());
  // A second engine and cache over the same directory stand in for a restart.
  auto engine = Engine::create(EngineConfig{});
  ASSERT_TRUE(engine.ok());
  ComponentCache restarted(*engine, dir_ / "artifacts", 1ull << 30);
  EXPECT_TRUE(restarted.hasArtifact(*hash));
  auto c = restarted.get(*hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto ex = testing::exchange(*engine, *c, RequestHead{});
  EXPECT_EQ(ex.status, 200);
}

TEST_F(Cache, UnknownHashIsAnError) {
  auto c = cache_->get(std::string(64, 'a'));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("no compiled artifact"), std::string::npos);
}

TEST_F(Cache, EvictsLeastRecentlyUsedBeyondTheBudget) {
  ComponentCache small(*engine_, dir_ / "artifacts", 1);  // room for one entry
  auto a = small.prepare(readFile(testing::example("hello-c")));
  auto b = small.prepare(readFile(testing::example("echo-c")));
  ASSERT_TRUE(a.ok() && b.ok());
  auto ca = small.get(*a);
  auto cb = small.get(*b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(small.stats().entries, 1u);
  EXPECT_EQ(small.stats().evictions, 1u);
  // The evicted component still works for whoever holds it.
  EXPECT_EQ(testing::exchange(*engine_, *ca, RequestHead{}).status, 200);
}

}  // namespace
}  // namespace fn0::runtime
