// The garbage collector's decisions, as pure functions (no I/O): which
// versions retention deletes, which hashes stay referenced, what an object
// key or a local file name is, and which objects are garbage. collector.h
// gathers the inputs and acts on the answers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "registry/code_refs.h"
#include "store/code_store.h"

namespace fn0::gc {

using Version = registry::CodeRefs::Version;

// Per function: every version but the newest `keep` (by number), except
// those an alias (live included) names. keep == 0 keeps every version
// (retention off). Ordered by function, then number.
std::vector<Version> versionsBeyondRetention(const std::vector<Version>& versions,
                                             const std::map<std::string, std::set<int64_t>>& aliased, uint32_t keep);

// The hashes still referenced once `doomed` is deleted: every other
// version's, of any function (identical bytes share one hash), and every
// mark of a deploy in progress.
std::unordered_set<std::string> referencedHashes(const std::vector<Version>& versions,
                                                 const std::vector<Version>& doomed,
                                                 const std::unordered_set<std::string>& marked);

enum class Kind {
  Original,       // a component in the code store: sha256/ab/<hash>
  Artifact,       // a sealed compiled artifact in the code store: artifacts/<engine>/<hash>.cwasm
  LocalArtifact,  // this node's compiled artifact: <artifacts dir>/<hash>-<engine>.cwasm
  LocalOriginal,  // this node's copy of an original from a shared store
  Temporary,      // a writer's temporary file (<name>.tmp.<pid>...) a crash left behind
};
const char* kindName(Kind k);  // "original", "artifact", "local_artifact", "local_original", "temporary"

struct Object {
  Kind kind = Kind::Original;
  std::string key;   // the store key, or for local files the path relative to their folder
  std::string hash;  // "" for a temporary
  uint64_t size = 0;
  int64_t modifiedMs = 0;
  bool local = false;  // this node's file, not the code store's
};

// What a key of the code store is; std::nullopt for anything fn0 did not
// write (never deleted: a bucket may hold other things) and for probes.
std::optional<Object> classifyStoreKey(const store::ObjectInfo& o);
// The same for a file of the local originals cache (store key layout).
std::optional<Object> classifyLocalOriginal(const store::ObjectInfo& o);
// A file name in the local artifacts folder.
std::optional<Object> classifyLocalArtifact(const store::ObjectInfo& o);

// The garbage among `objects`: written before nowMs - graceMs (a younger
// object may be a deploy's that has no version row yet) and with a hash
// nothing references; a temporary file only by its age, at least
// kTemporaryMinAgeMs (it may be a write in progress).
inline constexpr int64_t kTemporaryMinAgeMs = 3600 * 1000;
std::vector<Object> garbage(const std::vector<Object>& objects, const std::unordered_set<std::string>& referenced,
                            int64_t nowMs, int64_t graceMs);

bool isSha256Hex(const std::string& s);

}  // namespace fn0::gc
