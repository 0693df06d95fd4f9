// The garbage collector: deletes versions beyond the retention count
// (never an aliased one), then every object of the code store and every
// local file of this node whose content hash no version of any function
// references, once it is older than the grace period.
//
// Safe with concurrent deploys, on this node or another: a deploy marks
// its hash in the registry before it stores anything, and objects are
// deleted in short announced batches that the mark and the announcement
// order (registry/code_refs.h). The grace period is a second line: an
// object written in the last `grace` is never deleted, whatever the
// registry says (a node of an older fn0 deploying without marks, an
// artifact a node shares after compiling a version being deleted).
// One collection at a time in a cluster: a lease row in the registry.
//
// Local files (compiled artifacts, copies of a shared store's originals)
// are caches: deleting one a request then needs makes it fetch the object
// again, so every node sweeps its own (collectLocal) without the lease.
// Components already loaded in memory keep running after their files go.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "gc/plan.h"
#include "registry/code_refs.h"
#include "registry/registry.h"
#include "store/code_store.h"

namespace fn0::gc {

// Error::code when a collection is already running (here or on another node).
inline constexpr const char* kGcBusy = "gc-busy";

struct CollectorConfig {
  // Versions kept per function besides aliased ones (0: all, no retention).
  uint32_t keepVersions = 20;
  std::chrono::milliseconds grace = std::chrono::hours(1);
  // This node's name in the lease ("who is collecting").
  std::string holder;
  // This node's compiled artifacts ("": not swept, e.g. `fn0 dev`'s folder
  // shared by every project on the machine).
  std::filesystem::path localArtifacts;
  // This node's copies of a shared store's originals ("": the store is the
  // data directory's own blobs/, collected as the store).
  std::filesystem::path localOriginals;
  // A deletion batch: deploys wait for it, so it is short.
  std::chrono::milliseconds batchTime = std::chrono::seconds(30);
  size_t batchObjects = 256;
};

struct Report {
  bool dryRun = false;
  std::vector<Version> versions;   // deleted (or, dry, would be)
  std::vector<Object> objects;     // deleted (or, dry, would be)
  uint64_t keptYoung = 0;          // unreferenced, but younger than the grace period
  std::vector<std::string> failures;  // objects that could not be deleted, and why
};

class Collector {
 public:
  Collector(registry::Registry& registry, store::CodeStore& store, CollectorConfig config);

  // The whole collection: retention, the code store, this node's files.
  // Blocking (database and store round trips): call it off the I/O threads.
  Result<Report> collect(bool dryRun);
  // This node's local files only (what a peer does when asked). A dry run
  // counts the versions the asking node's retention (`keepVersions`, its
  // --keep-versions) would delete as gone, as that node's dry run does; a
  // real one comes after the retention and needs no such count.
  Result<Report> collectLocal(bool dryRun, uint32_t keepVersions = 0);

  // For a deploy (code::LibraryConfig::beforeStore): marks `hash` before
  // its objects are written, waiting while a batch deletes.
  Result<void> protectUpload(const std::string& hash);

  struct Stats {
    uint64_t runs = 0;  // collections that deleted (dry runs not counted)
    uint64_t versionsDeleted = 0, objectsDeleted = 0, bytesFreed = 0, failures = 0;
  };
  Stats stats() const;
  const CollectorConfig& config() const { return config_; }

 private:
  Result<std::vector<Object>> list(bool shared, bool local);
  Result<void> remove(const Object& o);
  // Deletes `candidates` in announced batches, rechecking each hash.
  void deleteInBatches(const std::vector<Object>& candidates, Report& report);
  void count(const Report& report);

  registry::CodeRefs refs_;
  store::CodeStore& store_;
  const CollectorConfig config_;
  std::unique_ptr<store::CodeStore> localOriginals_;
  std::mutex runMu_;  // one collection at a time on this node
  mutable std::mutex statsMu_;
  Stats stats_;
};

}  // namespace fn0::gc
