#include "code/library.h"

#include <fmt/core.h>

#include <algorithm>

#include "code/seal.h"
#include "common/failpoint.h"
#include "common/files.h"
#include "common/sha256.h"

namespace fn0::code {

namespace {

std::span<const uint8_t> spanOf(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

}  // namespace

Library::Library(runtime::ComponentCache& cache, store::CodeStore& store, LibraryConfig config)
    : cache_(cache), store_(store), config_(std::move(config)) {
  if (!config_.storeIsLocal) originals_ = store::openDirectoryStore(config_.originalsCache);
  // Tiered compilation: a baseline artifact found after a restart is
  // optimized from the original; an optimized one is shared once made.
  cache_.setOriginals([this](const std::string& hash) { return original(hash); });
  cache_.onOptimized([this](const std::string& hash) { share(hash); });
  // A node that compiled a fetched component with the baseline compiler
  // downloads the deploying node's optimized artifact when it is shared,
  // instead of compiling its own.
  if (config_.clusterKey) {
    cache_.setShared([this](const std::string& hash) { auto d = download(hash); return d && *d; },
                     config_.sharedArtifactWait, std::chrono::seconds(1));
  }
}

Library::~Library() {
  cache_.setOriginals(nullptr);
  cache_.onOptimized(nullptr);
  cache_.setShared(nullptr, {}, std::chrono::seconds(1));
}

Result<std::string> Library::add(std::span<const uint8_t> wasm) {
  auto hash = cache_.prepare(wasm);
  failpoint("deploy:compiled");
  if (!hash) return hash.error();
  if (config_.beforeStore) {
    if (auto marked = config_.beforeStore(*hash); !marked) return marked.error();
  }
  if (auto put = store_.put(store::componentKey(*hash), wasm); !put) return put.error();
  failpoint("deploy:blob-stored");
  if (originals_) (void)originals_->put(store::componentKey(*hash), wasm);
  share(*hash);
  pausepoint("deploy:stored");  // race tests: stored, no version row yet
  return hash;
}

// Uploads the sealed artifact of `hash` (best effort: another node that
// does not find it compiles for itself).
void Library::share(const std::string& hash) {
  if (!config_.clusterKey) return;
  const auto key = store::artifactKey(hash, cache_.fingerprint());
  if (auto there = store_.exists(key); there && *there) return;
  auto artifact = readFile(cache_.artifactPath(hash));
  if (!artifact) return;
  auto sealed = seal(spanOf(*artifact), *config_.clusterKey, hash, cache_.fingerprint());
  auto put = store_.put(key, spanOf(sealed));
  std::lock_guard lock(statsMu_);
  if (put) {
    stats_.artifactUploads++;
  } else {
    stats_.uploadFailures++;
    fmt::print(stderr, "fn0: could not share the artifact of {}: {}\n", hash.substr(0, 12), put.error().message);
  }
}

Result<void> Library::fetch(const std::string& hash) {
  std::shared_ptr<std::mutex> one;
  {
    std::lock_guard lock(fetchMu_);
    auto& slot = inFlight_[hash];
    if (!slot) slot = std::make_shared<std::mutex>();
    one = slot;
  }
  Result<void> r;
  {
    std::lock_guard lock(*one);
    r = cache_.hasArtifact(hash) ? Result<void>() : fetchLocked(hash);
  }
  std::lock_guard lock(fetchMu_);
  if (auto it = inFlight_.find(hash); it != inFlight_.end() && it->second.use_count() <= 2) inFlight_.erase(it);
  return r;
}

// The sealed artifact of `hash` from the store, verified, written to the
// local cache: true if it is there now.
Result<bool> Library::download(const std::string& hash) {
  if (!config_.clusterKey) return false;
  auto sealed = store_.get(store::artifactKey(hash, cache_.fingerprint()));
  if (!sealed) return sealed.error();
  if (!*sealed) return false;
  auto artifact = unseal(spanOf(**sealed), *config_.clusterKey, hash, cache_.fingerprint());
  if (!artifact) {
    std::lock_guard lock(statsMu_);
    stats_.artifactRejected++;
    fmt::print(stderr, "fn0: the shared artifact of {} has a seal that does not verify: not loaded, compiling\n",
               hash.substr(0, 12));
    return false;
  }
  if (!writeFileAtomically(cache_.artifactPath(hash), spanOf(*artifact))) return false;
  {
    std::lock_guard lock(statsMu_);
    stats_.artifactDownloads++;
  }
  trimDisk();
  return true;
}

Result<void> Library::fetchLocked(const std::string& hash) {
  auto downloaded = download(hash);
  if (!downloaded) return downloaded.error();
  if (*downloaded) return {};
  auto wasm = original(hash);
  if (!wasm) return wasm.error();
  // Deployed by another node: with tiered compilation that node is
  // compiling the optimized artifact, which this one then downloads.
  auto prepared = cache_.prepare(spanOf(*wasm), /*fetched=*/true);
  if (!prepared) return prepared.error();
  {
    std::lock_guard lock(statsMu_);
    stats_.fetchCompiles++;
  }
  share(hash);
  trimDisk();
  return {};
}

Result<std::vector<uint8_t>> Library::original(const std::string& hash) {
  const auto key = store::componentKey(hash);
  if (originals_) {
    if (auto local = originals_->get(key); local && *local) return std::move(**local);
  }
  auto got = store_.get(key);
  if (!got) return got.error();
  if (!*got) return Error{"the code store " + store_.describe() + " has no component " + hash};
  // Content-addressed: bytes that do not hash to their name are not it.
  if (sha256Hex(spanOf(**got)) != hash) return Error{"the code store returned corrupt bytes for component " + hash};
  if (originals_) {
    (void)originals_->put(key, spanOf(**got));
    std::lock_guard lock(statsMu_);
    stats_.originalDownloads++;
  }
  return std::move(**got);
}

// The disk budget (shared store only: alone, a node's artifacts and blobs
// are its only copies). Oldest files first, whole directory walked: this
// runs after a download or compile, never per request.
void Library::trimDisk() {
  if (config_.storeIsLocal) return;
  struct File {
    std::filesystem::path path;
    std::filesystem::file_time_type time;
    uintmax_t size;
  };
  std::vector<File> files;
  uintmax_t total = 0;
  for (const auto& dir : {cache_.artifactDir(), config_.originalsCache}) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      File f{it->path(), it->last_write_time(ec), it->file_size(ec)};
      if (ec) continue;
      total += f.size;
      files.push_back(std::move(f));
    }
  }
  if (total <= config_.diskBudgetBytes) return;
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.time < b.time; });
  for (const auto& f : files) {
    if (total <= config_.diskBudgetBytes) break;
    std::error_code ec;
    if (std::filesystem::remove(f.path, ec)) {
      total -= f.size;
      std::lock_guard lock(statsMu_);
      stats_.evictedFiles++;
    }
  }
}

Library::Stats Library::stats() const {
  std::lock_guard lock(statsMu_);
  return stats_;
}

}  // namespace fn0::code
