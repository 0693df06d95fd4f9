#include "gc/plan.h"

#include <algorithm>

namespace fn0::gc {

namespace {

bool isHex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "<name>.tmp.<pid>.<tag>.<n>": writeFileAtomically's temporary (common/files.cc).
bool isTemporary(const std::string& name) { return name.find(".tmp.") != std::string::npos; }

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = key.find('/', start);
    parts.push_back(key.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

Object make(Kind kind, const store::ObjectInfo& o, std::string hash) {
  return Object{kind, o.key, std::move(hash), o.size, o.modifiedMs};
}

}  // namespace

bool isSha256Hex(const std::string& s) { return isHex(s, 64); }

const char* kindName(Kind k) {
  switch (k) {
    case Kind::Original: return "original";
    case Kind::Artifact: return "artifact";
    case Kind::LocalArtifact: return "local_artifact";
    case Kind::LocalOriginal: return "local_original";
    case Kind::Temporary: return "temporary";
  }
  return "?";
}

std::vector<Version> versionsBeyondRetention(const std::vector<Version>& versions,
                                             const std::map<std::string, std::set<int64_t>>& aliased, uint32_t keep) {
  std::vector<Version> out;
  if (keep == 0) return out;
  std::map<std::string, std::vector<const Version*>> byFunction;
  for (const auto& v : versions) byFunction[v.function].push_back(&v);
  static const std::set<int64_t> kNone;
  for (auto& [function, list] : byFunction) {
    std::sort(list.begin(), list.end(), [](const Version* a, const Version* b) { return a->number > b->number; });
    auto a = aliased.find(function);
    const auto& pinned = a == aliased.end() ? kNone : a->second;
    for (size_t i = keep; i < list.size(); i++)
      if (!pinned.count(list[i]->number)) out.push_back(*list[i]);
  }
  std::sort(out.begin(), out.end(), [](const Version& a, const Version& b) {
    return a.function != b.function ? a.function < b.function : a.number < b.number;
  });
  return out;
}

std::unordered_set<std::string> referencedHashes(const std::vector<Version>& versions,
                                                 const std::vector<Version>& doomed,
                                                 const std::unordered_set<std::string>& marked) {
  std::set<std::pair<std::string, int64_t>> going;
  for (const auto& v : doomed) going.emplace(v.function, v.number);
  std::unordered_set<std::string> out = marked;
  for (const auto& v : versions)
    if (!going.count({v.function, v.number})) out.insert(v.hash);
  return out;
}

std::optional<Object> classifyStoreKey(const store::ObjectInfo& o) {
  const auto parts = split(o.key);
  if (isTemporary(parts.back())) {
    if (parts[0] == "sha256" || parts[0] == "artifacts") return make(Kind::Temporary, o, "");
    return std::nullopt;
  }
  if (parts.size() == 3 && parts[0] == "sha256" && isSha256Hex(parts[2]) && parts[1] == parts[2].substr(0, 2))
    return make(Kind::Original, o, parts[2]);
  if (parts.size() == 3 && parts[0] == "artifacts" && !parts[1].empty() && endsWith(parts[2], ".cwasm")) {
    std::string hash = parts[2].substr(0, parts[2].size() - 6);
    if (isSha256Hex(hash)) return make(Kind::Artifact, o, std::move(hash));
  }
  return std::nullopt;
}

std::optional<Object> classifyLocalOriginal(const store::ObjectInfo& o) {
  auto obj = classifyStoreKey(o);
  if (!obj || obj->kind == Kind::Artifact) return std::nullopt;
  if (obj->kind == Kind::Original) obj->kind = Kind::LocalOriginal;
  obj->local = true;
  return obj;
}

std::optional<Object> classifyLocalArtifact(const store::ObjectInfo& o) {
  if (o.key.find('/') != std::string::npos) return std::nullopt;
  std::optional<Object> out;
  if (isTemporary(o.key)) {
    if (endsWith(o.key.substr(0, o.key.find(".tmp.")), ".cwasm")) out = make(Kind::Temporary, o, "");
  } else if (endsWith(o.key, ".cwasm") && o.key.size() > 65 && o.key[64] == '-' && isSha256Hex(o.key.substr(0, 64))) {
    // <hash>-<engine fingerprint>.cwasm (runtime::ComponentCache::artifactPath)
    out = make(Kind::LocalArtifact, o, o.key.substr(0, 64));
  }
  if (out) out->local = true;
  return out;
}

std::vector<Object> garbage(const std::vector<Object>& objects, const std::unordered_set<std::string>& referenced,
                            int64_t nowMs, int64_t graceMs) {
  std::vector<Object> out;
  for (const auto& o : objects) {
    // A temporary file may be a write in progress (whatever its hash):
    // an hour at least, even with a shorter grace period.
    const int64_t minAge = o.kind == Kind::Temporary ? std::max(graceMs, kTemporaryMinAgeMs) : graceMs;
    if (o.modifiedMs > nowMs - minAge) continue;  // too young to judge
    if (o.kind != Kind::Temporary && referenced.count(o.hash)) continue;
    out.push_back(o);
  }
  return out;
}

}  // namespace fn0::gc
