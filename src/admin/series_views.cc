// The last hour in 10 s steps (metrics/series.h): /series (the node's, or
// in a cluster the sum of every node's), /functions/{name}/series, and
// /stats (each function's figures over a recent window, for tables). In a
// cluster each up peer is asked for its own steps with their latency
// buckets (`raw=true`), so counts add up exactly and quantiles are computed
// from the merged buckets.
#include <boost/asio.hpp>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "admin/access.h"
#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;
using metrics::Point;

namespace {

constexpr size_t kMaxPeerSeriesBytes = 4u << 20;

// Milliseconds, to the microsecond.
json ms(std::optional<double> seconds) {
  if (!seconds) return nullptr;
  return std::round(*seconds * 1e6) / 1e3;
}

json latencyJson(const Point& p) {
  json a = json::array();
  for (const auto& [i, n] : p.latency) a.push_back({i, n});
  return a;
}

// The figures of `p`: counts, CPU, quantiles; its buckets too when `raw`.
json figuresJson(const Point& p, bool raw) {
  const auto sketch = p.sketch();
  json j = {{"requests", p.requests},       {"errors", p.errors},        {"client_errors", p.clientErrors},
            {"p50_ms", ms(sketch.quantile(0.5))}, {"p99_ms", ms(sketch.quantile(0.99))},
            {"cpu_ms", std::round(p.cpuSeconds * 1e6) / 1e3},  {"limit_hits", p.limitHits},
            {"overloads", p.overloads},     {"cold_starts", p.coldStarts}};
  if (raw) j["latency"] = latencyJson(p);
  return j;
}

// A point as a peer sent it (figuresJson with raw), std::nullopt if it is not one.
std::optional<Point> pointOf(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Point p;
  auto u32 = [&](const char* k) -> uint32_t {
    return j.contains(k) && j[k].is_number_unsigned() ? static_cast<uint32_t>(j[k].get<uint64_t>()) : 0;
  };
  if (j.contains("t") && j["t"].is_number_integer()) p.t = j["t"].get<int64_t>();
  p.requests = u32("requests");
  p.errors = u32("errors");
  p.clientErrors = u32("client_errors");
  p.limitHits = u32("limit_hits");
  p.overloads = u32("overloads");
  p.coldStarts = u32("cold_starts");
  p.inFlightMax = u32("in_flight");
  if (j.contains("cpu_ms") && j["cpu_ms"].is_number()) p.cpuSeconds = j["cpu_ms"].get<double>() / 1e3;
  if (j.contains("latency") && j["latency"].is_array())
    for (const auto& b : j["latency"])
      if (b.is_array() && b.size() == 2 && b[0].is_number_unsigned() && b[1].is_number_unsigned() &&
          b[0].get<uint64_t>() < metrics::LatencySketch::kBuckets)
        p.latency.emplace_back(static_cast<uint8_t>(b[0].get<uint64_t>()), static_cast<uint32_t>(b[1].get<uint64_t>()));
  return p;
}

// `name`'s integer value in [lo, hi], `dflt` when absent; nullopt when it
// is not such a number.
std::optional<int64_t> intParam(const std::string& query, const char* name, int64_t lo, int64_t hi, int64_t dflt) {
  const std::string v = queryParam(query, name);
  if (v.empty()) return dflt;
  if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int64_t n = std::stoll(v);
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

int64_t stepOf(int64_t t) { return t - ((t % metrics::kStepSeconds) + metrics::kStepSeconds) % metrics::kStepSeconds; }

}  // namespace

asio::awaitable<void> AdminApi::series(http::Exchange& ex, const std::string* function, std::string query) {
  const http::Request& req = ex.request();
  const auto minutes = intParam(query, "minutes", 1, 60, 60);
  if (!minutes) co_return co_await sendError(ex, 400, "bad-request", "minutes must be a whole number from 1 to 60");
  const bool wholeCluster = !localOnly(req, query);
  const bool raw = queryParam(query, "raw") == "true";
  const std::string name = function ? *function : "";
  if (function && (!d_.cluster || wholeCluster)) {
    auto exists = co_await loadFunction(name);
    if (!exists) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
  }
  const int64_t now = d_.metrics.nowSeconds();
  const int64_t from = now - *minutes * 60 + metrics::kStepSeconds;  // `minutes` worth of steps, this one included
  std::vector<Point> sparse = d_.metrics.series(function ? &name : nullptr, from);
  json nodes = json::array({selfId()}), unreachable = json::array(), errors = json::object();
  if (wholeCluster) {
    const std::string path = function ? "functions/" + percentEncode(name) + "/series" : "series";
    std::vector<PeerQuestion> questions;
    for (const auto& id : upPeers(*d_.cluster))
      questions.push_back({id, "/_fn0/api/v1/" + path + "?local=true&raw=true&minutes=" + std::to_string(*minutes)});
    const size_t maxBody = kMaxPeerSeriesBytes;
    const auto deadline = kPeerDeadline;
    auto answers = co_await askPeers(d_.cluster->peers(), std::move(questions), peerAuth(req), maxBody, deadline);
    for (const auto& a : answers) {
      if (!a.body || !a.body->contains("points") || !(*a.body)["points"].is_array()) {
        unreachable.push_back(a.peer);
        errors[a.peer] = a.error.empty() ? "the answer is not a series" : a.error;
        continue;
      }
      nodes.push_back(a.peer);
      for (const auto& pj : (*a.body)["points"])
        if (auto p = pointOf(pj); p && p->t >= stepOf(from)) sparse.push_back(std::move(*p));
    }
    std::stable_sort(sparse.begin(), sparse.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
  }
  json points = json::array();
  const int64_t current = stepOf(now);
  for (const auto& p : metrics::densify(sparse, from, now)) {
    json j = figuresJson(p, raw);
    j["t"] = p.t;
    j["partial"] = p.t == current;
    j["span_s"] = p.t == current ? std::max<int64_t>(1, now - p.t) : metrics::kStepSeconds;
    j["in_flight"] = p.inFlightMax;
    points.push_back(std::move(j));
  }
  json body = {{"step_s", metrics::kStepSeconds}, {"clustered", d_.cluster != nullptr}, {"nodes", nodes},
               {"unreachable", unreachable}, {"points", std::move(points)}};
  if (function) body["function"] = name;
  if (!errors.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

asio::awaitable<void> AdminApi::stats(http::Exchange& ex, Caller caller, std::string query) {
  const http::Request& req = ex.request();
  const auto window = intParam(query, "window_s", 10, 3600, 300);
  if (!window) co_return co_await sendError(ex, 400, "bad-request", "window_s must be a whole number from 10 to 3600");
  const bool wholeCluster = !localOnly(req, query);
  const bool raw = queryParam(query, "raw") == "true";
  const int64_t now = d_.metrics.nowSeconds();
  const int64_t from = now - *window + 1;
  std::map<std::string, Point> fns = d_.metrics.window(from);
  json nodes = json::array({selfId()}), unreachable = json::array(), errors = json::object();
  if (wholeCluster) {
    std::vector<PeerQuestion> questions;
    for (const auto& id : upPeers(*d_.cluster))
      questions.push_back({id, "/_fn0/api/v1/stats?local=true&raw=true&window_s=" + std::to_string(*window)});
    const size_t maxBody = kMaxPeerSeriesBytes;
    const auto deadline = kPeerDeadline;
    auto answers = co_await askPeers(d_.cluster->peers(), std::move(questions), peerAuth(req), maxBody, deadline);
    for (const auto& a : answers) {
      if (!a.body || !a.body->contains("functions") || !(*a.body)["functions"].is_object()) {
        unreachable.push_back(a.peer);
        errors[a.peer] = a.error.empty() ? "the answer is not a summary" : a.error;
        continue;
      }
      nodes.push_back(a.peer);
      for (const auto& [name, pj] : (*a.body)["functions"].items())
        if (auto p = pointOf(pj)) fns[name].add(*p);
    }
  }
  // Seconds the window covers: from its first step's start to now.
  const double span = static_cast<double>(std::max<int64_t>(1, now - stepOf(from)));
  auto summary = [&](const Point& p) {
    json j = figuresJson(p, raw);
    j["rps"] = std::round(p.requests / span * 1000) / 1000;
    j["error_rate"] = p.requests ? std::round(1e4 * p.errors / p.requests) / 1e4 : 0.0;
    return j;
  };
  Point total;
  json functions = json::object();
  for (const auto& [name, p] : fns) {
    if (!canSee(caller, name)) continue;  // a deployer sees its own functions
    total.add(p);
    functions[name] = summary(p);
  }
  json body = {{"window_s", *window}, {"span_s", span},          {"clustered", d_.cluster != nullptr},
               {"nodes", nodes},      {"unreachable", unreachable}, {"node", summary(total)},
               {"functions", std::move(functions)}};
  if (!errors.empty()) body["peer_errors"] = errors;
  co_await sendJson(ex, 200, body);
}

}  // namespace fn0::admin
