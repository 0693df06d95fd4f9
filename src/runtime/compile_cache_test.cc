// The incremental compilation cache (engine/src/compile_cache.rs): what a
// compile finds there, that reused code makes the very same artifact, and
// that the directory stays under its budget.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/files.h"
#include "runtime/component.h"
#include "runtime/engine.h"
#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"

namespace fn0::runtime {
namespace {

using testing::readFile;

class CompileCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fn0-compile-cache-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A compile worker's engine: compile only, the cache in dir_.
  Engine worker(uint64_t budget = 1ull << 30) {
    EngineConfig c;
    c.compileOnly = true;
    c.compileCacheDir = dir_ / "cache";
    c.compileCacheBytes = budget;
    auto e = Engine::create(c);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return std::move(e).value();
  }

  uint64_t cacheBytes() const {
    uint64_t total = 0;
    for (auto& f : std::filesystem::recursive_directory_iterator(dir_ / "cache"))
      if (f.is_regular_file()) total += f.file_size();
    return total;
  }

  std::filesystem::path dir_;
};

TEST_F(CompileCache, ASecondCompileReusesEveryFunctionAndMakesTheSameArtifact) {
  const auto wasm = readFile(testing::example("hello-c"));
  EngineConfig plainConfig;
  plainConfig.compileOnly = true;
  auto plainEngine = Engine::create(plainConfig);
  ASSERT_TRUE(plainEngine.ok());
  auto plain = compile(*plainEngine, wasm);
  ASSERT_TRUE(plain.ok()) << plain.error().message;

  auto first = worker();
  // The cache is not part of what makes artifacts loadable.
  EXPECT_EQ(first.fingerprint(), plainEngine->fingerprint());
  auto a1 = compile(first, wasm);
  ASSERT_TRUE(a1.ok()) << a1.error().message;
  const auto c1 = first.compileCacheCounts();
  // hello-c has 46+ functions, plus trampolines; a few are identical to
  // another of the same component (found once that one is stored).
  EXPECT_GT(c1.misses, 40u);
  EXPECT_LT(c1.hits, c1.misses / 2);
  EXPECT_GT(cacheBytes(), 0u);

  // Another process (a new engine) finds nearly every function: all but a
  // few whose compiler input differs from one compile to the next (seen:
  // 3-30 of ~106 here, 600-1,000 of 19,700 for a JavaScript component).
  auto second = worker();
  auto a2 = compile(second, wasm);
  ASSERT_TRUE(a2.ok()) << a2.error().message;
  const auto c2 = second.compileCacheCounts();
  EXPECT_EQ(c2.hits + c2.misses, c1.hits + c1.misses);
  EXPECT_GT(c2.hits, c2.misses);
  auto third = worker();
  ASSERT_TRUE(compile(third, wasm).ok());
  EXPECT_GT(third.compileCacheCounts().hits, third.compileCacheCounts().misses);

  // Reused code is the same code: byte for byte the artifact of a compile
  // without any cache.
  const auto p = plain->bytes(), b1 = a1->bytes(), b2 = a2->bytes();
  EXPECT_TRUE(std::equal(p.begin(), p.end(), b1.begin(), b1.end()));
  EXPECT_TRUE(std::equal(p.begin(), p.end(), b2.begin(), b2.end()));

  // And it runs in a serving engine.
  auto node = Engine::create(EngineConfig{});
  ASSERT_TRUE(node.ok());
  const auto path = dir_ / "hello.cwasm";
  ASSERT_TRUE(writeFileAtomically(path, b2).ok());
  auto loaded = Component::load(*node, path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  RequestHead head;
  auto ex = testing::exchange(*node, *loaded, head);
  EXPECT_EQ(ex.status, 200) << ex.outcome.message;
  EXPECT_EQ(ex.body, "Hello from fn0 (C)!\n");
}

TEST_F(CompileCache, ADifferentComponentReusesTheFunctionsItShares) {
  auto first = worker();
  ASSERT_TRUE(compile(first, readFile(testing::example("hello-c"))).ok());
  auto second = worker();
  ASSERT_TRUE(compile(second, readFile(testing::example("echo-c"))).ok());
  const auto c = second.compileCacheCounts();
  // Both link the same libc and preview1 adapter; their handlers differ.
  EXPECT_GT(c.hits, 10u);
  EXPECT_GT(c.misses, 0u);
}

TEST_F(CompileCache, StaysUnderItsBudget) {
  const auto hello = readFile(testing::example("hello-c"));
  {
    auto e = worker();
    ASSERT_TRUE(compile(e, hello).ok());
  }
  const uint64_t helloBytes = cacheBytes();
  {
    auto e = worker();
    ASSERT_TRUE(compile(e, readFile(testing::guest("hostile-c"))).ok());
  }
  ASSERT_GT(cacheBytes(), helloBytes);
  // Less than the two compiles made: the least recently used entries go.
  const uint64_t budget = cacheBytes() - 1;
  {
    auto e = worker(budget);
    auto a = compile(e, hello);
    ASSERT_TRUE(a.ok());
  }
  EXPECT_LE(cacheBytes(), budget);
  // What is left (or nothing) still makes a correct artifact.
  auto e = worker();
  ASSERT_TRUE(compile(e, hello).ok());
}

TEST_F(CompileCache, AnUnwritableDirectoryFailsTheEngineWithAMessage) {
  ASSERT_TRUE(writeFileAtomically(dir_.string() + "-file", std::span<const uint8_t>{}).ok());
  EngineConfig c;
  c.compileOnly = true;
  c.compileCacheDir = dir_.string() + "-file/cache";  // under a regular file
  auto e = Engine::create(c);
  std::filesystem::remove(dir_.string() + "-file");
  ASSERT_FALSE(e.ok());
  EXPECT_FALSE(e.error().message.empty());
}

}  // namespace
}  // namespace fn0::runtime
