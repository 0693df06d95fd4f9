// A function's metrics (its logs: log_views.cc). On a node alone: that node's. In a
// cluster, any node answers for all of them: its own part plus each up
// peer's, asked at once (fanout.h) with `local=true` so that a peer
// answers with its own part only; a peer that does not answer in time is
// named in `unreachable` and the rest is still answered.
#include <boost/asio.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

constexpr size_t kMaxPeerMetricsBytes = 1u << 20;

// Seconds to the microsecond: sums of doubles print as 0.004190246999999999.
double micros(double seconds) { return std::round(seconds * 1e6) / 1e6; }

json countersJson(const metrics::Metrics::Counters& c) {
  json responses = json::object();
  for (int i = 1; i <= 5; i++) responses[std::to_string(i) + "xx"] = c.byClass[i];
  return {{"requests", c.requests},       {"responses", responses},       {"errors", c.byClass[5]},
          {"cold_starts", c.coldStarts},  {"overloads", c.overloads},     {"limit_hits", json(c.limitHits)},
          {"cpu_seconds", micros(c.cpuSeconds)},  {"duration_seconds", micros(c.durationSeconds)},
          {"in_flight", c.inFlight}};
}

// Adds one node's counters into the total, key by key (nested objects
// too: responses, limit_hits).
void addCounters(json& total, const json& node) {
  for (const auto& [k, v] : node.items()) {
    if (k == "node") continue;
    if (v.is_object()) {
      if (!total.contains(k) || !total[k].is_object()) total[k] = json::object();
      addCounters(total[k], v);
    } else if (v.is_number_unsigned() && (!total.contains(k) || total[k].is_number_unsigned())) {
      total[k] = total.value(k, uint64_t{0}) + v.get<uint64_t>();
    } else if (v.is_number_integer() && (!total.contains(k) || total[k].is_number_integer())) {
      total[k] = total.value(k, int64_t{0}) + v.get<int64_t>();
    } else if (v.is_number()) {
      total[k] = (total.contains(k) && total[k].is_number() ? total[k].get<double>() : 0.0) + v.get<double>();
    }
  }
}

std::string peerTarget(const std::string& name, const std::string& what) {
  return "/_fn0/api/v1/functions/" + percentEncode(name) + "/" + what + "?local=true";
}

}  // namespace

std::string AdminApi::selfId() const {
  return d_.cluster ? d_.cluster->self() : "127.0.0.1:" + std::to_string(d_.port);
}

bool AdminApi::localOnly(const http::Request& req, const std::string& query) const {
  if (!d_.cluster) return true;
  return queryParam(query, "local") == "true" || d_.cluster->forwardedIn(req).has_value();
}

asio::awaitable<void> AdminApi::functionMetrics(http::Exchange& ex, std::string name, std::string query) {
  const http::Request& req = ex.request();
  const bool wholeCluster = !localOnly(req, query);
  if (!d_.cluster || wholeCluster) {
    auto exists = co_await loadFunction(name);
    if (!exists) {
      const std::string message = "no function named '" + name + "'";
      const std::string reason = "not-found";
      co_await sendError(ex, 404, reason, message);
      co_return;
    }
  }
  json self = countersJson(d_.metrics.counters(name));
  self["node"] = selfId();
  json nodes = json::array({self});
  json unreachable = json::array(), errors = json::object();
  if (wholeCluster) {
    std::vector<PeerQuestion> questions;
    for (const auto& id : upPeers(*d_.cluster)) questions.push_back({id, peerTarget(name, "metrics")});
    std::vector<http::Header> headers = peerAuth(req);
    auto& peers = d_.cluster->peers();
    const size_t maxBody = kMaxPeerMetricsBytes;
    const auto deadline = kPeerDeadline;
    auto answers = co_await askPeers(peers, std::move(questions), std::move(headers), maxBody, deadline);
    for (const auto& a : answers) {
      // A peer's answer has the same shape, with itself as the one node.
      const bool ok = a.body && a.body->contains("nodes") && (*a.body)["nodes"].is_array() &&
                      (*a.body)["nodes"].size() == 1 && (*a.body)["nodes"][0].is_object();
      if (!ok) {
        unreachable.push_back(a.peer);
        errors[a.peer] = a.error.empty() ? "the answer is not a function's metrics" : a.error;
        continue;
      }
      json n = (*a.body)["nodes"][0];
      n["node"] = a.peer;
      nodes.push_back(std::move(n));
    }
  }
  json total = json::object();
  for (const auto& n : nodes) addCounters(total, n);
  for (const char* k : {"cpu_seconds", "duration_seconds"})
    if (total.contains(k) && total[k].is_number()) total[k] = micros(total[k].get<double>());
  json body = {{"function", name},   {"clustered", d_.cluster != nullptr}, {"total", total},
               {"nodes", nodes},     {"unreachable", unreachable}};
  if (!errors.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

}  // namespace fn0::admin
