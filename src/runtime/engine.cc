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
  fn0_engine_t* handle = nullptr;
  if (fn0_engine_error_t* err = fn0_engine_new(&raw, &handle)) return takeError(err);
  return Engine(handle);
}

std::string wasmtimeVersion() { return fn0_engine_wasmtime_version(); }

}  // namespace fn0::runtime
