#include "cluster/cluster.h"

#include <strings.h>

#include "common/sha256.h"

namespace fn0::cluster {

namespace {
std::string headerOf(const http::Request& req, const char* name) {
  for (const auto& [k, v] : req.headers)
    if (strcasecmp(k.c_str(), name) == 0) return v;
  return "";
}
}  // namespace

Cluster::Cluster(ClusterConfig config, Membership::Sources sources)
    : config_(std::move(config)),
      token_(config_.clusterKey.empty() ? "" : forwardToken(config_.clusterKey)),
      membership_(config_.registryUrl, config_.self, std::move(sources), config_.membership),
      peers_(config_.self, token_, config_.waitForAnswer) {}

void Cluster::leave() {
  membership_.leave();
  peers_.close();
}

std::optional<Origin> Cluster::forwardedIn(const http::Request& req) const {
  if (token_.empty()) return std::nullopt;
  const std::string given = headerOf(req, kForwardedHeader);
  if (given.empty() || !constantTimeEqual(given, token_)) return std::nullopt;
  Origin o;
  o.by = headerOf(req, kForwardedByHeader);
  o.requestId = headerOf(req, "fn0-request-id");
  o.client = headerOf(req, kClientHeader);
  // Only what a request id can look like (it goes into logs and headers).
  if (o.requestId.empty() || o.requestId.size() > 64 ||
      o.requestId.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") !=
          std::string::npos)
    o.requestId = req.requestId;
  if (o.client.empty() || o.client.size() > 64) o.client = req.remote;
  const std::string v = headerOf(req, kVersionHeader);
  if (!v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos) o.version = std::stoll(v);
  return o;
}

Plan Cluster::plan(const std::string& hash, Local self) {
  const auto view = membership_.view();
  const auto key = warmKey(hash).value_or(0);
  const auto now = std::chrono::steady_clock::now();
  return cluster::plan(
      *view, [&](const Member& m) { return membership_.up(m, now); }, key, self,
      [&](const std::string& id) { return peers_.inflight(id); });
}

std::vector<std::pair<std::string, double>> Cluster::gauges() const {
  const auto view = membership_.view();
  const auto now = std::chrono::steady_clock::now();
  double up = 0, down = 0;
  for (const auto& m : view->members) (membership_.up(m, now) ? up : down) += 1;
  const auto s = membership_.stats();
  auto d = [](const std::atomic<uint64_t>& v) { return static_cast<double>(v.load()); };
  return {
      {"fn0_cluster_forwards_total{outcome=\"ok\"}", d(counters.forwardedOk)},
      {"fn0_cluster_forwards_total{outcome=\"rejected\"}", d(counters.forwardedRejected)},
      {"fn0_cluster_forwards_total{outcome=\"unreachable\"}", d(counters.forwardedUnreachable)},
      {"fn0_cluster_forwards_total{outcome=\"failed\"}", d(counters.forwardedFailed)},
      {"fn0_cluster_rejections_received_total", d(counters.forwardedRejected)},
      {"fn0_cluster_ran_for_peers_total", d(counters.ranForPeers)},
      {"fn0_cluster_rejections_sent_total", d(counters.rejectedForPeers)},
      {"fn0_cluster_local_cold_starts_total", d(counters.localColdStarts)},
      {"fn0_cluster_overloaded_total", d(counters.overloaded)},
      {"fn0_cluster_nodes{state=\"up\"}", up},
      {"fn0_cluster_nodes{state=\"down\"}", down},
      {"fn0_cluster_membership_connected", s.connected ? 1.0 : 0.0},
      {"fn0_cluster_heartbeats_total", static_cast<double>(s.beats)},
  };
}

}  // namespace fn0::cluster
