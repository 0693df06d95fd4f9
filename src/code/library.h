// The code library: a deployed component's original in the code store, its
// compiled artifact in the local cache (runtime::ComponentCache) and, in a
// cluster, shared sealed through the store, so a node that never compiled a
// component downloads its artifact instead of compiling it again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/component_cache.h"
#include "store/code_store.h"

namespace fn0::code {

struct LibraryConfig {
  // The store is the data directory's own blobs/ (one node): nothing to
  // download, nothing to share.
  bool storeIsLocal = true;
  // Shares artifacts when set (the cluster key's bytes).
  std::optional<std::string> clusterKey;
  // Local copies of originals fetched from a remote store.
  std::filesystem::path originalsCache;
  // Local disk for artifacts and fetched originals (shared store only);
  // the oldest files go first beyond it.
  uint64_t diskBudgetBytes = 8ull << 30;
  // Called by a deploy once its component compiled, before anything is
  // written to the store: the garbage collector's mark (gc::Collector::
  // protectUpload), which may wait while a collection is deleting. An
  // error fails the deploy. Unset: nothing is called.
  std::function<Result<void>(const std::string& hash)> beforeStore;
  // Tiered compilation in a cluster: how long a node that compiled another
  // node's deploy with the baseline compiler waits for that node's
  // optimized artifact before compiling its own (asked every second).
  std::chrono::milliseconds sharedArtifactWait{std::chrono::seconds(120)};
};

class Library {
 public:
  Library(runtime::ComponentCache& cache, store::CodeStore& store, LibraryConfig config);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // A deploy: compiles (checks and validates) `wasm`, stores the original,
  // shares the artifact. Returns the content hash. A store that cannot be
  // reached fails it with code store-unavailable; nothing is registered.
  Result<std::string> add(std::span<const uint8_t> wasm);

  // Makes sure this node has the artifact of `hash` on local disk: a
  // sealed artifact downloaded and verified, else the original downloaded
  // and compiled. Blocking (a download, maybe a compile): call it off the
  // I/O threads. Concurrent calls for one hash do the work once.
  Result<void> fetch(const std::string& hash);

  // The original component bytes (for export and download).
  Result<std::vector<uint8_t>> original(const std::string& hash);

  std::string describeStore() const { return store_.describe(); }
  bool sharesArtifacts() const { return config_.clusterKey.has_value(); }

  struct Stats {
    uint64_t artifactDownloads = 0;  // sealed artifacts fetched, verified, used
    uint64_t artifactRejected = 0;   // seals that did not verify: never loaded
    uint64_t artifactUploads = 0;
    uint64_t uploadFailures = 0;     // artifact sharing is best effort
    uint64_t originalDownloads = 0;
    uint64_t fetchCompiles = 0;      // compiles a request needed (no usable artifact)
    uint64_t evictedFiles = 0;       // local files removed by the disk budget
  };
  Stats stats() const;

 private:
  Result<void> fetchLocked(const std::string& hash);
  Result<bool> download(const std::string& hash);
  void share(const std::string& hash);
  void trimDisk();

  runtime::ComponentCache& cache_;
  store::CodeStore& store_;
  const LibraryConfig config_;
  std::unique_ptr<store::CodeStore> originals_;  // local cache of a remote store's originals
  std::mutex fetchMu_;                           // guards inFlight_
  std::map<std::string, std::shared_ptr<std::mutex>> inFlight_;
  mutable std::mutex statsMu_;
  Stats stats_;
};

}  // namespace fn0::code
