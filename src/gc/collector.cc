#include "gc/collector.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/failpoint.h"

namespace fn0::gc {

namespace {

using Clock = std::chrono::steady_clock;

int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The lease outlives a batch comfortably: a holder that stops renewing it
// (it died) frees it within this.
std::chrono::milliseconds leaseTime(const CollectorConfig& c) { return c.batchTime * 2 + std::chrono::seconds(30); }

// The files of the flat local artifacts folder.
Result<std::vector<store::ObjectInfo>> listFlat(const std::filesystem::path& dir) {
  std::vector<store::ObjectInfo> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({it->path().filename().string(), static_cast<uint64_t>(st.st_size),
                   int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000});
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Error{"cannot list " + dir.string() + ": " + ec.message()};
  return out;
}

// Releases the lease on every way out of a collection.
class LeaseGuard {
 public:
  LeaseGuard(registry::CodeRefs& refs, std::string holder) : refs_(refs), holder_(std::move(holder)) {}
  ~LeaseGuard() { (void)refs_.release(holder_); }
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;

 private:
  registry::CodeRefs& refs_;
  std::string holder_;
};

}  // namespace

Collector::Collector(registry::Registry& registry, store::CodeStore& store, CollectorConfig config)
    : refs_(registry), store_(store), config_(std::move(config)) {
  if (!config_.localOriginals.empty()) localOriginals_ = store::openDirectoryStore(config_.localOriginals);
}

Result<std::vector<Object>> Collector::list(bool shared, bool local) {
  std::vector<Object> out;
  if (shared) {
    for (const char* folder : {"sha256", "artifacts"}) {
      auto listed = store_.list(folder);
      if (!listed) return listed.error();
      for (const auto& o : *listed)
        if (auto obj = classifyStoreKey(o)) out.push_back(std::move(*obj));
    }
  }
  if (local && localOriginals_) {
    auto listed = localOriginals_->list("sha256");
    if (!listed) return listed.error();
    for (const auto& o : *listed)
      if (auto obj = classifyLocalOriginal(o)) out.push_back(std::move(*obj));
  }
  if (local && !config_.localArtifacts.empty()) {
    auto listed = listFlat(config_.localArtifacts);
    if (!listed) return listed.error();
    for (const auto& o : *listed)
      if (auto obj = classifyLocalArtifact(o)) out.push_back(std::move(*obj));
  }
  return out;
}

Result<void> Collector::remove(const Object& o) {
  if (!o.local) return store_.remove(o.key);
  // The local originals keep the store's key layout; artifacts are flat.
  if (o.key.find('/') != std::string::npos) return localOriginals_->remove(o.key);
  // Unlinking a mapped artifact is safe: a component loaded from it keeps
  // its mapping until it is dropped.
  const auto path = config_.localArtifacts / o.key;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error{"cannot remove " + path.string() + ": " + std::strerror(errno)};
  return {};
}

Result<Report> Collector::collect(bool dryRun) {
  std::unique_lock running(runMu_, std::try_to_lock);
  if (!running) return Error{"a garbage collection is already running on this node", kGcBusy};
  Report report;
  report.dryRun = dryRun;
  const int64_t grace = config_.grace.count();
  const uint32_t keep = config_.keepVersions;

  if (dryRun) {
    // What a collection now would delete: the same reading, no lease, no
    // writes. (A real one reads the registry again before each batch.)
    auto state = refs_.state(registry::kMarkLifetimeMs);
    if (!state) return state.error();
    report.versions = versionsBeyondRetention(state->versions, state->aliased, keep);
    const auto referenced = referencedHashes(state->versions, report.versions, state->marked);
    auto objects = list(true, true);
    if (!objects) return objects.error();
    const int64_t now = unixMs();
    report.objects = garbage(*objects, referenced, now, grace);
    report.keptYoung = garbage(*objects, referenced, now, 0).size() - report.objects.size();
    return report;
  }

  std::string other;
  auto got = refs_.acquire(config_.holder, leaseTime(config_).count(), &other);
  if (!got) return got.error();
  if (!*got) return Error{"a garbage collection is running on " + other + "; try again when it is done", kGcBusy};
  LeaseGuard lease(refs_, config_.holder);

  // Retention first, so the versions it deletes lose their files in this run.
  auto state = refs_.state(registry::kMarkLifetimeMs);
  if (!state) return state.error();
  auto doomed = versionsBeyondRetention(state->versions, state->aliased, keep);
  auto deleted = refs_.deleteVersions(doomed);
  if (!deleted) return deleted.error();
  report.versions = std::move(*deleted);

  // Candidates from a fresh reading; each batch checks them again.
  auto after = refs_.state(registry::kMarkLifetimeMs);
  if (!after) return after.error();
  const auto referenced = referencedHashes(after->versions, {}, after->marked);
  auto objects = list(true, true);
  if (!objects) return objects.error();
  const int64_t now = unixMs();
  const auto candidates = garbage(*objects, referenced, now, grace);
  report.keptYoung = garbage(*objects, referenced, now, 0).size() - candidates.size();
  deleteInBatches(candidates, report);
  count(report);
  return report;
}

void Collector::deleteInBatches(const std::vector<Object>& candidates, Report& report) {
  size_t next = 0;
  while (next < candidates.size()) {
    const auto started = Clock::now();
    auto referenced = refs_.beginDeleting(config_.holder, config_.batchTime.count() * 2, registry::kMarkLifetimeMs);
    if (!referenced) {
      report.failures.push_back("stopped: " + referenced.error().message);
      return;
    }
    pausepoint("gc:deleting");  // race tests: a batch announced, nothing deleted yet
    size_t done = 0;
    // The batch is announced for twice batchTime on the database's clock;
    // stopping at batchTime on this one leaves a margin for a slow call.
    while (next < candidates.size() && done < config_.batchObjects && Clock::now() - started < config_.batchTime) {
      const Object& o = candidates[next++];
      done++;
      if (o.kind != Kind::Temporary && referenced->count(o.hash)) continue;  // referenced again since the listing
      if (auto r = remove(o); !r) {
        report.failures.push_back(std::string(kindName(o.kind)) + " " + o.key + ": " + r.error().message);
        continue;
      }
      report.objects.push_back(o);
    }
    if (auto end = refs_.endDeleting(config_.holder); !end) {
      report.failures.push_back("stopped: " + end.error().message);
      return;
    }
  }
}

Result<Report> Collector::collectLocal(bool dryRun, uint32_t keepVersions) {
  std::unique_lock running(runMu_, std::try_to_lock);
  if (!running) return Error{"a garbage collection is already running on this node", kGcBusy};
  Report report;
  report.dryRun = dryRun;
  auto state = refs_.state(registry::kMarkLifetimeMs);
  if (!state) return state.error();
  const auto doomed = dryRun ? versionsBeyondRetention(state->versions, state->aliased, keepVersions)
                             : std::vector<Version>{};
  const auto referenced = referencedHashes(state->versions, doomed, state->marked);
  auto objects = list(false, true);
  if (!objects) return objects.error();
  const int64_t now = unixMs();
  auto candidates = garbage(*objects, referenced, now, config_.grace.count());
  report.keptYoung = garbage(*objects, referenced, now, 0).size() - candidates.size();
  if (dryRun) {
    report.objects = std::move(candidates);
    return report;
  }
  // No lease and no batches: a local file deleted under a deploy or a
  // request on this node is fetched (or compiled) again when needed.
  for (const auto& o : candidates) {
    if (auto r = remove(o); !r) {
      report.failures.push_back(std::string(kindName(o.kind)) + " " + o.key + ": " + r.error().message);
      continue;
    }
    report.objects.push_back(o);
  }
  count(report);
  return report;
}

Result<void> Collector::protectUpload(const std::string& hash) {
  // A batch ends within 2 x batchTime on the database's clock even if its
  // collector died; past that something else is wrong.
  const auto deadline = Clock::now() + config_.batchTime * 2 + std::chrono::seconds(10);
  for (;;) {
    auto marked = refs_.markUpload(hash);
    if (!marked) return marked.error();
    if (*marked) return {};
    if (Clock::now() > deadline)
      return Error{"the code store is being garbage collected and the deletion did not end in time; retry",
                   store::kStoreUnavailable};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Collector::count(const Report& report) {
  std::lock_guard lock(statsMu_);
  stats_.runs++;
  stats_.versionsDeleted += report.versions.size();
  stats_.objectsDeleted += report.objects.size();
  for (const auto& o : report.objects) stats_.bytesFreed += o.size;
  stats_.failures += report.failures.size();
}

Collector::Stats Collector::stats() const {
  std::lock_guard lock(statsMu_);
  return stats_;
}

}  // namespace fn0::gc
