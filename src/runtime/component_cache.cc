#include "runtime/component_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/failpoint.h"
#include "common/files.h"
#include "common/sha256.h"

namespace fn0::runtime {

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

ComponentCache::ComponentCache(const Engine& engine, std::filesystem::path artifactDir,
                               size_t memoryBudgetBytes, size_t maxEntries)
    : engine_(engine),
      dir_(std::move(artifactDir)),
      budget_(memoryBudgetBytes),
      maxEntries_(maxEntries != 0 ? maxEntries : maxEntriesForMapCount()),
      fingerprint_(hex64(engine.fingerprint())) {
  std::filesystem::create_directories(dir_);
}

ComponentCache::~ComponentCache() {
  {
    std::lock_guard lock(tierMu_);
    stop_ = true;
  }
  tierCv_.notify_all();
  if (optimizer_.joinable()) optimizer_.join();
}

size_t ComponentCache::maxEntriesForMapCount() {
  constexpr size_t kReserved = 16384, kPerComponent = 4, kFloor = 256;
  size_t maps = 65530;  // the kernel's default, if /proc says nothing
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1) maps = static_cast<size_t>(v);
    std::fclose(f);
  }
  return maps > kReserved + kPerComponent * kFloor ? (maps - kReserved) / kPerComponent : kFloor;
}

std::filesystem::path ComponentCache::artifactPath(const std::string& hash) const {
  return dir_ / (hash + "-" + fingerprint_ + ".cwasm");
}

std::filesystem::path ComponentCache::baselinePath(const std::string& hash) const {
  return dir_ / (hash + "-" + fingerprint_ + ".baseline.cwasm");
}

namespace {

bool isFile(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

void removeFile(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

}  // namespace

bool ComponentCache::hasArtifact(const std::string& hash) const {
  return isFile(artifactPath(hash)) || isFile(baselinePath(hash)) || resident(hash);
}

// Compiles optimized into `path` and loads the result once: loading checks
// what only this engine knows (the pooling allocator's per-component caps,
// exactly); an artifact it refuses is not kept. A deploy's compile (not `inBackground`)
// holds the background one stopped while it runs.
Result<void> ComponentCache::compileTo(std::span<const uint8_t> wasm, const std::filesystem::path& path,
                                       bool inBackground) {
  if (isolation_) {
    const Background background{&stop_, &foreground_};
    if (!inBackground) foreground_++;
    auto c = compileInChild(*isolation_, wasm, path, Tier::Optimized, inBackground ? &background : nullptr);
    if (!inBackground) foreground_--;
    if (!c) return c.error();
  } else {
    auto artifact = compile(engine_, wasm, Tier::Optimized);
    if (!artifact) return artifact.error();
    if (auto w = writeFileAtomically(path, artifact->bytes()); !w) return w.error();
  }
  if (auto loaded = Component::load(engine_, path); !loaded) {
    removeFile(path);
    return loaded.error();
  }
  return {};
}

// The artifact goes to an in-memory file (a memfd) and is mapped from
// there: writing 55 MB to the disk's page cache was throttled to the
// disk's speed here (100-150 ms), to tmpfs it takes ~25 ms. The background
// thread writes it to its file afterwards (persistBaseline), for a restart.
Result<std::shared_ptr<const Component>> ComponentCache::compileBaseline(std::span<const uint8_t> wasm,
                                                                         UniqueFd& image) {
  image.reset(::memfd_create("fn0-baseline-artifact", MFD_CLOEXEC));
  if (!image) return Error{std::string("cannot create a memory file: ") + std::strerror(errno)};
  if (isolation_) {
    foreground_++;
    auto c = compileInChildToFile(*isolation_, wasm, image.get(), Tier::Baseline);
    foreground_--;
    if (!c) return c.error();
  } else {
    auto artifact = compile(engine_, wasm, Tier::Baseline);
    if (!artifact) return artifact.error();
    if (!writeAll(image.get(), artifact->bytes()))
      return Error{std::string("cannot write the baseline artifact: ") + std::strerror(errno)};
  }
  auto loaded = Component::load(engine_, "/proc/self/fd/" + std::to_string(image.get()), Tier::Baseline);
  if (!loaded) return loaded.error();
  return *loaded;
}

void ComponentCache::persistBaseline(const std::string& hash, const UniqueFd& image) {
  if (isFile(artifactPath(hash)) || isFile(baselinePath(hash))) return;
  struct stat st {};
  if (::fstat(image.get(), &st) != 0 || st.st_size <= 0) return;
  const size_t len = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, image.get(), 0);
  if (p == MAP_FAILED) return;
  // Not fsync'd: replaced within seconds, and compiled again if a power
  // loss empties it (get).
  auto w = writeFileAtomically(baselinePath(hash), {static_cast<const uint8_t*>(p), len}, nullptr,
                               Durability::kRebuildable);
  ::munmap(p, len);
  if (!w) std::fprintf(stderr, "fn0: cannot keep the baseline artifact of %s: %s\n", hash.substr(0, 12).c_str(),
                       w.error().message.c_str());
}

Result<std::string> ComponentCache::prepare(std::span<const uint8_t> wasm, bool fetched) {
  std::string hash = sha256Hex(wasm);
  if (hasArtifact(hash)) return hash;  // identical bytes: nothing to do
  // Over a cap: refused in milliseconds, before any compile time is spent.
  if (auto c = check(wasm); !c) return c.error();
  if (baselineMinBytes_ != 0 && wasm.size() >= baselineMinBytes_) {
    // Refused (WASI 0.3, a proposal Winch lacks, or a broken component):
    // the optimizing compile below decides, and names the problem.
    UniqueFd image;
    if (auto c = compileBaseline(wasm, image); c) {
      // Resident at once: the first request finds it in memory.
      (void)(*c)->prefault();
      {
        std::lock_guard lock(mu_);
        stats_.compiles++;
        stats_.baselineCompiles++;
        if (!index_.count(hash)) insertLocked(Entry{hash, *c, (*c)->imageBytes()});
      }
      Job job{hash, std::vector<uint8_t>(wasm.begin(), wasm.end()), std::move(image)};
      if (fetched && hasShared_) job.waitForShared = Clock::now() + std::chrono::milliseconds(sharedWaitMs_.load());
      enqueue(std::move(job));
      return hash;
    }
  }
  if (auto c = compileTo(wasm, artifactPath(hash)); !c) return c.error();
  std::lock_guard lock(mu_);
  stats_.compiles++;
  return hash;
}

void ComponentCache::setOriginals(std::function<Result<std::vector<uint8_t>>(const std::string&)> originals) {
  std::lock_guard lock(callbackMu_);
  hasOriginals_ = static_cast<bool>(originals);
  originals_ = std::move(originals);
}

void ComponentCache::onOptimized(std::function<void(const std::string&)> callback) {
  std::lock_guard lock(callbackMu_);
  optimized_ = std::move(callback);
}

void ComponentCache::setShared(std::function<bool(const std::string&)> download, std::chrono::milliseconds wait,
                               std::chrono::milliseconds every) {
  std::lock_guard lock(callbackMu_);
  shared_ = std::move(download);
  hasShared_ = static_cast<bool>(shared_);
  sharedWaitMs_ = wait.count();
  sharedEveryMs_ = every.count();
}

bool ComponentCache::downloadShared(const std::string& hash) {
  std::lock_guard lock(callbackMu_);
  return shared_ && shared_(hash) && isFile(artifactPath(hash));
}

void ComponentCache::enqueue(Job job) {
  std::lock_guard lock(tierMu_);
  // Only a job that starts now keeps the component's bytes: one queued
  // behind others asks originals_ for them when its turn comes (by then
  // the deploy has stored them), so a burst of big deploys does not hold
  // every upload in memory.
  if (!pending_.empty() && hasOriginals_) job.wasm.reset();
  if (stop_ || !pending_.insert(job.hash).second) return;
  queue_.push_back(std::move(job));
  if (!optimizer_.joinable()) optimizer_ = std::thread([this] { optimizerLoop(); });
  tierCv_.notify_all();
}

void ComponentCache::waitForOptimizer() {
  std::unique_lock lock(tierMu_);
  tierCv_.wait(lock, [this] { return pending_.empty() || stop_; });
}

void ComponentCache::optimizerLoop() {
  for (;;) {
    Job job;
    {
      // The first job due; one waiting for a shared artifact is due again
      // at its notBefore.
      std::unique_lock lock(tierMu_);
      for (;;) {
        if (stop_) return;
        const auto now = Clock::now();
        auto due = std::find_if(queue_.begin(), queue_.end(), [&](const Job& j) { return j.notBefore <= now; });
        if (due != queue_.end()) {
          job = std::move(*due);
          queue_.erase(due);
          break;
        }
        if (queue_.empty()) {
          tierCv_.wait(lock);
        } else {
          auto next = std::min_element(queue_.begin(), queue_.end(),
                                       [](const Job& a, const Job& b) { return a.notBefore < b.notBefore; });
          tierCv_.wait_until(lock, next->notBefore);
        }
      }
    }
    if (!optimize(job)) {
      std::lock_guard lock(tierMu_);
      job.notBefore = Clock::now() + std::chrono::milliseconds(sharedEveryMs_.load());
      if (hasOriginals_) job.wasm.reset();  // fetched again when it is due (a local copy in a cluster)
      queue_.push_back(std::move(job));
      continue;  // still pending
    }
    {
      std::lock_guard lock(tierMu_);
      pending_.erase(job.hash);
    }
    tierCv_.notify_all();
  }
}

// One baseline artifact replaced: the optimized artifact downloaded or
// compiled (unless it is there already), swapped into memory, the baseline
// file removed. A failure leaves the function on the baseline code, said
// once on stderr; the next start tries again.
bool ComponentCache::optimize(Job& job) {
  const std::string& hash = job.hash;
  if (job.image) {
    pausepoint("tiered:persist");  // tests: a node killed before the file is written
    persistBaseline(hash, job.image);
    job.image.reset();
  }
  if (!isFile(artifactPath(hash))) {
    if (!isFile(baselinePath(hash)) && !resident(hash)) return true;  // collected meanwhile
    // Made by another node of the cluster: downloaded, not compiled again.
    // A component this node fetched was deployed by another, which compiles
    // it now: its artifact is awaited for a while.
    const bool downloaded = downloadShared(hash);
    if (!downloaded && Clock::now() < job.waitForShared && !stop_) return false;
    if (!downloaded && !compileOptimized(job)) return true;
  }
  swapIn(hash);
  removeFile(baselinePath(hash));
  {
    std::lock_guard lock(mu_);
    stats_.optimized++;
  }
  std::lock_guard lock(callbackMu_);
  if (optimized_) optimized_(hash);
  return true;
}

// The optimizing compile of a job's component into its artifact path; a
// failure is counted and said on stderr (not when the node is stopping).
bool ComponentCache::compileOptimized(Job& job) {
  const std::string& hash = job.hash;
  const auto path = artifactPath(hash);
  if (!job.wasm) {
    std::lock_guard lock(callbackMu_);
    if (!originals_) return false;
    auto got = originals_(hash);
    if (!got) {
      std::fprintf(stderr, "fn0: cannot optimize %s: %s\n", hash.substr(0, 12).c_str(), got.error().message.c_str());
      std::lock_guard statsLock(mu_);
      stats_.optimizeFailures++;
      return false;
    }
    job.wasm = std::move(*got);
  }
  const std::filesystem::path tmp = path.string() + ".tmp.optimize";
  auto compiled = compileTo(*job.wasm, tmp, true);
  job.wasm.reset();
  if (!compiled || stop_) {
    removeFile(tmp);
    if (stop_) return false;
    std::fprintf(stderr, "fn0: the optimizing compile of %s failed; it keeps running the baseline compiler's code: %s\n",
                 hash.substr(0, 12).c_str(), compiled.error().message.c_str());
    std::lock_guard lock(mu_);
    stats_.optimizeFailures++;
    return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    removeFile(tmp);
    std::lock_guard lock(mu_);
    stats_.optimizeFailures++;
    return false;
  }
  return true;
}

// A resident baseline component is replaced by the optimized one, loaded
// and prefaulted here, off the request path; requests already running keep
// theirs.
void ComponentCache::swapIn(const std::string& hash) {
  {
    std::lock_guard lock(mu_);
    auto it = index_.find(hash);
    if (it == index_.end() || it->second->component->tier() != Tier::Baseline) return;
  }
  auto loaded = Component::load(engine_, artifactPath(hash));
  if (!loaded) return;  // the next load from disk tries again
  (void)(*loaded)->prefault();
  std::lock_guard lock(mu_);
  auto it = index_.find(hash);
  if (it == index_.end()) return;
  Entry& e = *it->second;
  stats_.bytes = stats_.bytes - e.bytes + (*loaded)->imageBytes();
  e.bytes = (*loaded)->imageBytes();
  e.component = *loaded;
}

Result<std::shared_ptr<const Component>> ComponentCache::get(const std::string& hash, bool* wasLoaded) {
  if (wasLoaded) *wasLoaded = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(hash); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      stats_.hits++;
      return it->second->component;
    }
  }
  // Loading maps the file and pre-links: done outside the lock so other
  // functions keep being served meanwhile. The optimized artifact when
  // there is one; else the baseline one, whose optimizing compile is then
  // queued (it was cut short by a restart).
  Tier tier = Tier::Optimized;
  if (!isFile(artifactPath(hash))) {
    if (!isFile(baselinePath(hash))) return Error{"no compiled artifact for component " + hash};
    tier = Tier::Baseline;
  }
  auto loaded = Component::load(engine_, tier == Tier::Baseline ? baselinePath(hash) : artifactPath(hash), tier);
  if (!loaded && tier == Tier::Baseline && isFile(artifactPath(hash))) {
    tier = Tier::Optimized;  // optimized (and the baseline file removed) meanwhile
    loaded = Component::load(engine_, artifactPath(hash));
  } else if (!loaded && tier == Tier::Baseline) {
    // Not fsync'd (a power loss can empty it) and always rebuildable: gone,
    // so that the caller's fetch compiles the component again.
    removeFile(baselinePath(hash));
  }
  if (!loaded) return loaded.error();
  // Its one-time costs (page faults of the mapped artifact, wasmtime's lazy
  // images) are paid here, not by the first request's CPU budget. A
  // failure only means the first request pays them after all.
  (void)(*loaded)->prefault();
  std::shared_ptr<const Component> out;
  {
    std::lock_guard lock(mu_);
    stats_.loads++;
    if (wasLoaded) *wasLoaded = true;
    if (auto it = index_.find(hash); it != index_.end()) {  // another thread won the race
      lru_.splice(lru_.begin(), lru_, it->second);
      out = it->second->component;
    } else {
      insertLocked(Entry{hash, *loaded, (*loaded)->imageBytes()});
      out = *loaded;
    }
  }
  // Queued once the entry is in memory, so that the optimizer's swap finds
  // it (or, optimized meanwhile, replaces it right away).
  if (out->tier() == Tier::Baseline) enqueue(Job{hash, std::nullopt, {}});
  return out;
}

void ComponentCache::insertLocked(Entry entry) {
  stats_.bytes += entry.bytes;
  lru_.push_front(std::move(entry));
  index_[lru_.front().hash] = lru_.begin();
  // Evict from the cold end; a component in use stays alive through its
  // shared_ptr until its requests finish. The newest entry always stays.
  while ((stats_.bytes > budget_ || lru_.size() > maxEntries_) && lru_.size() > 1) {
    Entry& victim = lru_.back();
    stats_.bytes -= victim.bytes;
    index_.erase(victim.hash);
    lru_.pop_back();
    stats_.evictions++;
  }
  stats_.entries = lru_.size();
}

bool ComponentCache::resident(const std::string& hash) const {
  std::lock_guard lock(mu_);
  return index_.count(hash) > 0;
}

std::vector<std::string> ComponentCache::residentHashes() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(lru_.size());
  for (const auto& e : lru_) out.push_back(e.hash);
  return out;
}

ComponentCache::Stats ComponentCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.entries = lru_.size();
  return s;
}

}  // namespace fn0::runtime
