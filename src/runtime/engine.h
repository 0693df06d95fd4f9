// C++ face of the Rust adapter (engine/include/fn0_engine.h): move-only RAII
// owners for its handles and Result<T> instead of error pointers. Policy lives
// in C++; this layer only translates.
#pragma once

#include <fn0_engine.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"

namespace fn0::runtime {

// Takes ownership of an adapter error and returns its message.
Error takeError(fn0_engine_error_t* err);

struct EngineConfig {
  uint64_t maxMemoryBytes = 128ull << 20;  // node maximum per instance
  uint32_t pooledInstances = 1000;
  bool pooling = true;
  uint32_t workerThreads = 0;  // 0: one per CPU
  // Only compiles (the compile worker, compile_worker.h): no guest threads,
  // no epoch ticker.
  bool compileOnly = false;
  // The incremental compilation cache (engine/src/compile_cache.rs): a
  // directory every compile worker of the node shares, so functions any
  // earlier deploy compiled are not compiled again. Empty: none.
  std::filesystem::path compileCacheDir;
  uint64_t compileCacheBytes = 1ull << 30;
};

// The process-wide wasmtime engine. One per process; thread-safe to share.
class Engine {
 public:
  static Result<Engine> create(const EngineConfig& config);

  const fn0_engine_t* raw() const { return handle_.get(); }

  // Identifies which compiled artifacts this engine can load.
  uint64_t fingerprint() const { return fn0_engine_fingerprint(handle_.get()); }

  // Functions compiled so far that came from the incremental compilation
  // cache, and that were compiled because they were missing.
  struct CompileCacheCounts {
    uint64_t hits = 0, misses = 0;
  };
  CompileCacheCounts compileCacheCounts() const {
    CompileCacheCounts c;
    fn0_engine_compile_cache_counts(handle_.get(), &c.hits, &c.misses);
    return c;
  }

  // Where the node listens: guests' outbound requests never reach it unless
  // an allow-list entry names exactly that port.
  Result<void> setListener(const std::string& host, uint16_t port) const;

  // Where guests' key-value calls go (kv/guest_api.h); before any request.
  void setKvHandler(fn0_kv_handler_t handler) const { fn0_engine_set_kv_handler(handle_.get(), handler); }

 private:
  struct Deleter {
    void operator()(fn0_engine_t* e) const { fn0_engine_delete(e); }
  };
  explicit Engine(fn0_engine_t* h) : handle_(h) {}
  std::unique_ptr<fn0_engine_t, Deleter> handle_;
};

// "48.0.8" — the wasmtime linked into this binary.
std::string wasmtimeVersion();

}  // namespace fn0::runtime
