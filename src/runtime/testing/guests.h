// Where the tests find guest components, and a fixture that owns an engine
// and a component cache in a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "runtime/component_cache.h"
#include "runtime/engine.h"

namespace fn0::runtime::testing {

inline std::vector<uint8_t> readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << p << " (run `make examples`/`make test` first)";
  return {std::istreambuf_iterator<char>(in), {}};
}

inline std::filesystem::path example(const std::string& name) {
  return std::filesystem::path(FN0_EXAMPLES_DIR) / (name + ".wasm");
}
inline std::filesystem::path guest(const std::string& name) {
  return std::filesystem::path(FN0_GUESTS_DIR) / (name + ".wasm");
}

// Artifacts live in one directory under the build tree, shared by every test
// process (ctest runs each test case as its own process): a component is
// compiled once per build, not once per test. Safe to share: artifacts are
// keyed by content and engine fingerprint and written atomically.
inline std::filesystem::path testCacheDir() { return FN0_TEST_CACHE_DIR; }

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testCacheDir();
    auto e = Engine::create(EngineConfig{});
    ASSERT_TRUE(e.ok()) << e.error().message;
    engine_ = std::make_unique<Engine>(std::move(e).value());
    cache_ = std::make_unique<ComponentCache>(*engine_, dir_ / "artifacts", 1ull << 30);
  }
  void TearDown() override {
    cache_.reset();
    engine_.reset();
  }

  // Compiles (or finds) the component at `path` and returns it loaded.
  std::shared_ptr<const Component> load(const std::filesystem::path& path) {
    auto hash = cache_->prepare(readFile(path));
    EXPECT_TRUE(hash.ok()) << path << ": " << (hash.ok() ? "" : hash.error().message);
    if (!hash.ok()) return nullptr;
    auto c = cache_->get(*hash);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ComponentCache> cache_;
};

}  // namespace fn0::runtime::testing
