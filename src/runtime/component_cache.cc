#include "runtime/component_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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

bool ComponentCache::hasArtifact(const std::string& hash) const {
  std::error_code ec;
  return std::filesystem::is_regular_file(artifactPath(hash), ec);
}

Result<std::string> ComponentCache::prepare(std::span<const uint8_t> wasm) {
  std::string hash = sha256Hex(wasm);
  if (hasArtifact(hash)) return hash;  // identical bytes: nothing to do
  // Over a cap: refused in milliseconds, before any compile time is spent.
  if (auto c = check(wasm); !c) return c.error();
  const auto path = artifactPath(hash);
  if (isolation_) {
    if (auto c = compileInChild(*isolation_, wasm, path); !c) return c.error();
  } else {
    auto artifact = compile(engine_, wasm);
    if (!artifact) return artifact.error();
    if (auto w = writeFileAtomically(path, artifact->bytes()); !w) return w.error();
  }
  // Loading checks what only this engine knows (the pooling allocator's
  // per-component caps, exactly); an artifact it refuses is not kept.
  if (auto loaded = Component::load(engine_, path); !loaded) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return loaded.error();
  }
  std::lock_guard lock(mu_);
  stats_.compiles++;
  return hash;
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
  if (!hasArtifact(hash)) return Error{"no compiled artifact for component " + hash};
  // Loading maps the file and pre-links: done outside the lock so other
  // functions keep being served meanwhile.
  auto loaded = Component::load(engine_, artifactPath(hash));
  if (!loaded) return loaded.error();
  // Its one-time costs (page faults of the mapped artifact, wasmtime's lazy
  // images) are paid here, not by the first request's CPU budget. A
  // failure only means the first request pays them after all.
  (void)(*loaded)->prefault();
  std::lock_guard lock(mu_);
  stats_.loads++;
  if (wasLoaded) *wasLoaded = true;
  if (auto it = index_.find(hash); it != index_.end()) {  // another thread won the race
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->component;
  }
  insertLocked(Entry{hash, *loaded, (*loaded)->imageBytes()});
  return *loaded;
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
