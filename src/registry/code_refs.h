// What the garbage collector (src/gc/) needs from the registry: which
// component hashes are referenced, deleting versions beyond retention, the
// cluster-wide collector lease, and the handshake between a deploy storing
// a component and a collector deleting objects.
//
// The handshake. A deploy writes its objects (original, artifact) before
// its version row exists, and a write of an object that is already there is
// skipped. So "not referenced by any version" is not enough to delete an
// object: a deploy may be about to reference it. Before it stores anything,
// a deploy marks its hash (markUpload); a collector deletes only in batches
// it announces (beginDeleting), and the announcement and the mark both
// update the one gc_state row, so they are ordered:
//   - mark first: the batch's referenced set (read after its update of the
//     row) has the mark, the object stays;
//   - batch first: markUpload sees it and answers false; the deploy waits
//     until the batch is over and then stores, so its existence check runs
//     after any delete, and a deleted object is written again.
// The transaction that adds the version row gives the mark back
// (Registry::addVersion); a deploy that failed after marking leaves its
// mark, which counts until it is `markLifetimeMs` old (kMarkLifetimeMs by
// default) and is then dropped by the next batch.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "registry/registry.h"

namespace fn0::registry {

// How long a mark a deploy never gave back (it failed, or its node died)
// keeps its hash: far longer than any deploy takes from marking to its
// version row (a store write, a registry write).
inline constexpr int64_t kMarkLifetimeMs = 3600 * 1000;

// Error::code of a collector that no longer holds the lease.
inline constexpr const char* kGcLeaseLost = "gc-lease-lost";

class CodeRefs {
 public:
  explicit CodeRefs(Registry& registry) : r_(registry) {}

  struct Version {
    std::string function;
    int64_t number = 0;
    std::string hash;
    int64_t size = 0;
    int64_t createdAt = 0;  // unix seconds
  };
  // One snapshot of what references code.
  struct State {
    std::vector<Version> versions;                        // every function's
    std::map<std::string, std::set<int64_t>> aliased;     // function -> versions an alias names
    std::unordered_set<std::string> marked;               // hashes deploys are storing
    int64_t nowMs = 0;                                    // the database's clock
  };
  // Marks older than `markMaxAgeMs` are left out.
  Result<State> state(int64_t markMaxAgeMs);

  // A deploy, before it stores `hash`: true when marked; false when a
  // collector is deleting now (retry shortly: its batches are short).
  Result<bool> markUpload(const std::string& hash);

  // The collector lease (one collector at a time in a cluster): true when
  // `holder` has it (taken, renewed) until ttlMs from now on the
  // database's clock; false with the holder in `*other` when taken.
  Result<bool> acquire(const std::string& holder, int64_t ttlMs, std::string* other);
  Result<void> release(const std::string& holder);

  // Announces a deletion batch lasting at most `ttlMs` (deploys wait for
  // it) and returns, read after the announcement, every hash a version or a
  // mark younger than `markMaxAgeMs` references; older marks are dropped.
  // Fails with kGcLeaseLost when `holder` no longer holds the lease.
  Result<std::unordered_set<std::string>> beginDeleting(const std::string& holder, int64_t ttlMs,
                                                        int64_t markMaxAgeMs);
  Result<void> endDeleting(const std::string& holder);

  // Deletes these versions, except any an alias names by now, in one write
  // (the catalog republished, other nodes told). Returns those deleted.
  Result<std::vector<Version>> deleteVersions(const std::vector<Version>& versions);

 private:
  Registry& r_;
};

}  // namespace fn0::registry
