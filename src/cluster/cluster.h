// This node's part in a cluster: membership (who is up, how loaded, what
// each holds warm), the peer connections, the forward token, and the
// counters operators alert on. The invoker asks it where a request runs
// (plan) and hands it requests to forward; see docs/cluster.md.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "cluster/membership.h"
#include "cluster/peers.h"
#include "cluster/placement.h"
#include "http/exchange.h"

namespace fn0::cluster {

struct ClusterConfig {
  std::string registryUrl;
  std::string self;        // the advertised HOST:PORT
  std::string clusterKey;  // empty: no forwarding (nothing to prove membership with)
  bool forward = true;
  std::chrono::milliseconds waitForAnswer{75000};
  MembershipConfig membership;
};

// A request a peer forwarded here, its token verified.
struct Origin {
  std::string by, requestId, client;
  int64_t version = 0;  // what the sender resolved (0: not given); its catalog may be newer
};

class Cluster {
 public:
  Cluster(ClusterConfig config, Membership::Sources sources);

  void start() { membership_.start(); }
  // Leaves the membership (peers stop sending here) and drops idle connections.
  void leave();

  const std::string& self() const { return config_.self; }
  bool forwarding() const { return config_.forward && !token_.empty(); }
  Membership& membership() { return membership_; }
  Peers& peers() { return peers_; }

  // Whether `req` comes from a peer (a valid forward token); such a request
  // runs here and is never forwarded again.
  std::optional<Origin> forwardedIn(const http::Request& req) const;

  // Where a request for the component `hash` should go.
  Plan plan(const std::string& hash, Local self);

  struct Counters {
    std::atomic<uint64_t> forwardedOk{0}, forwardedRejected{0}, forwardedUnreachable{0}, forwardedFailed{0};
    std::atomic<uint64_t> ranForPeers{0}, rejectedForPeers{0};
    std::atomic<uint64_t> localColdStarts{0}, overloaded{0};
  };
  Counters counters;
  // Prometheus lines for the metrics endpoint.
  std::vector<std::pair<std::string, double>> gauges() const;

 private:
  const ClusterConfig config_;
  const std::string token_;
  Membership membership_;
  Peers peers_;
};

}  // namespace fn0::cluster
