// The component cache: compiled artifacts on disk, keyed by the component's
// content hash and the engine fingerprint (so a new wasmtime never loads an
// old artifact), and pre-linked components in memory, evicted least recently
// used once their mapped images exceed a byte budget or their number the
// process's room for memory mappings (maxEntriesForMapCount).
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "runtime/compile_worker.h"
#include "runtime/component.h"
#include "runtime/engine.h"

namespace fn0::runtime {

class ComponentCache {
 public:
  // `maxEntries` 0: maxEntriesForMapCount().
  ComponentCache(const Engine& engine, std::filesystem::path artifactDir, size_t memoryBudgetBytes,
                 size_t maxEntries = 0);

  // How many components may be resident at once: every loaded artifact
  // holds about 4 memory mappings (code, data, copy-on-write image), and at
  // vm.max_map_count (65530 by default) every further mmap fails, a new
  // instance's included: requests would fail with 500s. 16,384 mappings stay
  // for the pooling allocator, threads and libraries; 12,286 components with
  // the default limit. Raise vm.max_map_count to keep more resident.
  static size_t maxEntriesForMapCount();

  // Compiles `wasm` and stores its artifact, unless that is already on disk.
  // Returns the content hash (sha256 hex) that `get` takes. The caps
  // (runtime::check) are checked before compiling; the new artifact is
  // loaded once, so this engine is known to accept it.
  Result<std::string> prepare(std::span<const uint8_t> wasm);

  // From now on prepare() compiles in a child process with a time and
  // memory budget (compile_worker.h) instead of in this process.
  void compileInChildProcess(CompileIsolation how) { isolation_ = std::move(how); }

  // The pre-linked component for `hash`: from memory, or loaded from its
  // artifact (no compilation; the artifact read into memory and mapped
  // before this returns: a load blocks on the disk, so call it off the I/O
  // threads when the component is not resident). Fails if it was never
  // prepared.
  // `loaded` (optional) tells whether this call had to load it: a cold start.
  Result<std::shared_ptr<const Component>> get(const std::string& hash, bool* loaded = nullptr);

  // In memory now (a request for it is warm). For cluster routing.
  bool resident(const std::string& hash) const;
  std::vector<std::string> residentHashes() const;

  bool hasArtifact(const std::string& hash) const;
  std::filesystem::path artifactPath(const std::string& hash) const;
  const std::filesystem::path& artifactDir() const { return dir_; }
  // The engine fingerprint (16 hex digits) artifacts are keyed by.
  const std::string& fingerprint() const { return fingerprint_; }

  struct Stats {
    size_t entries = 0;
    size_t bytes = 0;
    uint64_t hits = 0;
    uint64_t loads = 0;
    uint64_t evictions = 0;
    uint64_t compiles = 0;  // artifacts this process compiled (restart: 0)
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string hash;
    std::shared_ptr<const Component> component;
    size_t bytes;
  };
  void insertLocked(Entry entry);

  const Engine& engine_;
  const std::filesystem::path dir_;
  const size_t budget_;
  const size_t maxEntries_;
  const std::string fingerprint_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Stats stats_;
  std::optional<CompileIsolation> isolation_;
};

}  // namespace fn0::runtime
