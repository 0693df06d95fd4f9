#include "runtime/engine.h"

namespace fn0::runtime {

Error takeError(fn0_engine_error_t* err) {
  const char* data = nullptr;
  size_t len = 0;
  fn0_engine_error_message(err, &data, &len);
  Error e{std::string(data, len)};
  fn0_engine_error_delete(err);
  return e;
}

Result<Engine> Engine::create(const EngineConfig& config) {
  fn0_engine_config_t raw{};
  raw.max_memory_bytes = config.maxMemoryBytes;
  raw.pooled_instances = config.pooledInstances;
  raw.on_demand_allocator = config.pooling ? 0 : 1;
  raw.worker_threads = config.workerThreads;
  raw.compile_only = config.compileOnly ? 1 : 0;
  const std::string cacheDir = config.compileCacheDir.string();
  raw.compile_cache_dir = cacheDir.data();
  raw.compile_cache_dir_len = cacheDir.size();
  raw.compile_cache_bytes = config.compileCacheBytes;
  fn0_engine_t* handle = nullptr;
  if (fn0_engine_error_t* err = fn0_engine_new(&raw, &handle)) return takeError(err);
  return Engine(handle);
}

Result<void> Engine::setListener(const std::string& host, uint16_t port) const {
  const auto* bytes = reinterpret_cast<const uint8_t*>(host.data());
  if (auto* err = fn0_engine_set_listener(handle_.get(), bytes, host.size(), port)) return takeError(err);
  return {};
}

std::string wasmtimeVersion() { return fn0_engine_wasmtime_version(); }

}  // namespace fn0::runtime
