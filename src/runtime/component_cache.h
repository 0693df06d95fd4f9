// The component cache: compiled artifacts on disk, keyed by the component's
// content hash and the engine fingerprint (so a new wasmtime never loads an
// old artifact), and pre-linked components in memory, evicted least recently
// used once their mapped images exceed a byte budget or their number the
// process's room for memory mappings (maxEntriesForMapCount).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/files.h"
#include "common/result.h"
#include "runtime/compile_worker.h"
#include "runtime/component.h"
#include "runtime/engine.h"

namespace fn0::runtime {

// The size from which tiered compilation pays: smaller components compile
// optimized in well under a second (hello-c: 30 ms).
inline constexpr size_t kBaselineMinBytes = 1 << 20;

class ComponentCache {
 public:
  // `maxEntries` 0: maxEntriesForMapCount().
  ComponentCache(const Engine& engine, std::filesystem::path artifactDir, size_t memoryBudgetBytes,
                 size_t maxEntries = 0);
  // Stops the optimizing compile in progress, if any (a later start picks
  // it up again from the baseline artifact on disk; one not written yet is
  // compiled again when its function is first asked for).
  ~ComponentCache();

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
  // With tiered compilation on (compileBaselineFirst), a big WASI 0.2
  // component is compiled by the baseline compiler here, and by the
  // optimizing one on a background thread afterwards.
  // `fetched`: a component another node of a cluster deployed. That node
  // compiles the optimized artifact and shares it, so the background
  // thread waits for it (setShared) before compiling one itself.
  Result<std::string> prepare(std::span<const uint8_t> wasm, bool fetched = false);

  // From now on prepare() compiles in a child process with a time and
  // memory budget (compile_worker.h) instead of in this process.
  void compileInChildProcess(CompileIsolation how) { isolation_ = std::move(how); }

  // Tiered compilation: prepare() compiles a component of at least
  // `minBytes` with the baseline compiler first (Winch: a 13 MB JavaScript
  // component in ~1.5 s instead of ~7), so it answers at once; one
  // background thread then compiles it optimized, and the optimized
  // artifact replaces the baseline one, on disk and in memory. A component
  // the baseline compiler refuses (WASI 0.3, a proposal it lacks) is
  // compiled optimized at once. 0 (the default): off.
  void compileBaselineFirst(size_t minBytes) { baselineMinBytes_ = minBytes; }
  // Where the background compile gets a component's original bytes when
  // prepare() did not hand them over (a baseline artifact found on disk
  // after a restart). Unset: such an artifact is not optimized.
  void setOriginals(std::function<Result<std::vector<uint8_t>>(const std::string& hash)> originals);
  // Called on the background thread after an optimized artifact replaced
  // a baseline one (the code library shares it). Unset with nullptr; the
  // setter waits for a call in progress.
  void onOptimized(std::function<void(const std::string& hash)> callback);
  // Where the background thread looks for an optimized artifact another
  // node made (a cluster's store) before compiling one: `download` puts it
  // at artifactPath(hash) and says whether it did. For a fetched component
  // it asks every `every` for up to `wait`, then compiles. Unset with
  // nullptr (the setter waits for a call in progress).
  void setShared(std::function<bool(const std::string& hash)> download, std::chrono::milliseconds wait,
                 std::chrono::milliseconds every);
  // Blocks until no optimizing compile is queued or running (tests).
  void waitForOptimizer();

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

  // An artifact of either tier, on disk or resident (a deploy's baseline
  // artifact is resident before the background thread writes its file).
  bool hasArtifact(const std::string& hash) const;
  // The optimized artifact (the one a cluster shares) and the baseline one.
  std::filesystem::path artifactPath(const std::string& hash) const;
  std::filesystem::path baselinePath(const std::string& hash) const;
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
    uint64_t baselineCompiles = 0;   // of those, by the baseline compiler
    uint64_t optimized = 0;          // baseline artifacts replaced by optimized ones
    uint64_t optimizeFailures = 0;   // optimizing compiles that failed (the baseline code stays)
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string hash;
    std::shared_ptr<const Component> component;
    size_t bytes;
  };
  void insertLocked(Entry entry);
  // The optimized artifact (the baseline one: compileBaseline).
  Result<void> compileTo(std::span<const uint8_t> wasm, const std::filesystem::path& path, bool inBackground = false);
  // A baseline artifact, compiled into the in-memory file `image` and
  // loaded from it: nothing waits for the disk.
  Result<std::shared_ptr<const Component>> compileBaseline(std::span<const uint8_t> wasm, UniqueFd& image);
  // Writes a baseline artifact held in memory to its file (for a restart).
  void persistBaseline(const std::string& hash, const UniqueFd& image);
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::string hash;
    std::optional<std::vector<uint8_t>> wasm;  // none: ask originals_
    UniqueFd image;  // the baseline artifact, in memory only so far
    Clock::time_point waitForShared{};  // until then, no compile of its own (a fetched component)
    Clock::time_point notBefore{};      // the next look for a shared artifact
  };
  void enqueue(Job job);
  void optimizerLoop();
  // False: no artifact yet and still waiting for a shared one (ask later).
  bool optimize(Job& job);
  bool compileOptimized(Job& job);
  bool downloadShared(const std::string& hash);
  void swapIn(const std::string& hash);

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
  size_t baselineMinBytes_ = 0;

  // The background optimizing compiles (tiered compilation).
  std::mutex tierMu_;  // guards the queue, the thread, stop_ (with the atomic)
  std::condition_variable tierCv_;
  std::deque<Job> queue_;
  std::set<std::string> pending_;  // queued or running, by hash
  std::thread optimizer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> foreground_{0};  // deploys compiling now
  std::mutex callbackMu_;  // guards originals_, optimized_ and shared_, held while they run
  std::function<Result<std::vector<uint8_t>>(const std::string&)> originals_;
  std::atomic<bool> hasOriginals_{false};
  std::function<void(const std::string&)> optimized_;
  std::function<bool(const std::string&)> shared_;
  // Read without callbackMu_, which a download holds for its whole length.
  std::atomic<bool> hasShared_{false};
  std::atomic<int64_t> sharedWaitMs_{0}, sharedEveryMs_{1000};
};

}  // namespace fn0::runtime
