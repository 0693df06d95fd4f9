// Where a request runs: the power of two choices among the nodes that hold
// the function warm, preferring its owners on a consistent-hash ring
// (rendezvous hashing: every node ranks the same nodes first for a
// function, so a function's warm copies converge on the same few nodes
// instead of ending up cold everywhere). Pure: the view in, a plan out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cluster/membership.h"

namespace fn0::cluster {

struct Target {
  std::string id;
  bool self = false;
  double load = 0;  // running / capacity
};

struct Plan {
  // At most two nodes holding the function warm (the receiving node is one
  // when it is warm), the less loaded first, the better owner on a tie.
  // Tried in order; a rejection moves on.
  std::vector<Target> warm;
  // Peers with room that are not in `warm`, for when this node is full
  // too: least loaded first, owners first among equals.
  std::vector<Target> spare;
};

struct Local {
  bool warm = false;
  uint32_t running = 0, capacity = 1;
};

// `up`: whether a member may be sent to. `extra(id)`: requests this node
// has in flight to that peer, added to what its last beat said.
Plan plan(const View& view, const std::function<bool(const Member&)>& up, uint64_t key, Local self,
          const std::function<uint32_t(const std::string&)>& extra);

// The rendezvous score of a node for a function (higher: more of an owner).
uint64_t ownerScore(const std::string& nodeId, uint64_t key);

}  // namespace fn0::cluster
