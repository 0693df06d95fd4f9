#include "runtime/engine.h"

#include <gtest/gtest.h>

#include <regex>

namespace fn0::runtime {
namespace {

TEST(Engine, ReportsTheLinkedWasmtimeVersion) {
  // A semantic version resolved from Cargo.lock, never "unknown".
  EXPECT_TRUE(std::regex_match(wasmtimeVersion(), std::regex(R"(\d+\.\d+\.\d+)")))
      << wasmtimeVersion();
}

TEST(Engine, CreatesWithPoolingAllocator) {
  auto engine = Engine::create(EngineConfig{});
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  EXPECT_NE(engine->raw(), nullptr);
}

TEST(Engine, FingerprintIsStableForOneConfigurationAndNonZero) {
  auto a = Engine::create(EngineConfig{});
  auto b = Engine::create(EngineConfig{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->fingerprint(), 0u);
  EXPECT_EQ(a->fingerprint(), b->fingerprint());
}

TEST(Engine, CreatesWithOnDemandAllocator) {
  EngineConfig config;
  config.pooling = false;
  auto engine = Engine::create(config);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
}

TEST(Engine, RejectsAnImpossibleConfigurationWithAMessage) {
  // A pool whose reservation cannot fit in the address space must fail as a
  // value, not abort the process.
  EngineConfig config;
  config.maxMemoryBytes = 1ull << 62;
  config.pooledInstances = 1'000'000;
  auto engine = Engine::create(config);
  ASSERT_FALSE(engine.ok());
  EXPECT_FALSE(engine.error().message.empty());
}

}  // namespace
}  // namespace fn0::runtime
