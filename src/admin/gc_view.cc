// POST /gc?dry_run=true|false: garbage collection (src/gc/). The node
// asked runs the whole collection (retention, the code store, its own
// files) and then asks each up peer to sweep its own files (`local=true`,
// a peer never asks further); the answer lists what went, or with
// dry_run=true what would go, by node. A collection already running
// anywhere in the cluster is a 409 gc-busy.
#include <boost/asio.hpp>
#include <map>
#include <optional>
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

// A peer's sweep walks two folders and deletes files: seconds at most.
constexpr std::chrono::milliseconds kPeerSweepDeadline{30000};
constexpr size_t kMaxPeerReportBytes = 16u << 20;

json reportJson(const gc::Report& r, const std::string& node) {
  json versions = json::array(), objects = json::array();
  for (const auto& v : r.versions)
    versions.push_back({{"function", v.function}, {"version", "v" + std::to_string(v.number)}, {"number", v.number},
                        {"hash", v.hash}, {"size", v.size}});
  for (const auto& o : r.objects) {
    json j = {{"kind", gc::kindName(o.kind)}, {"key", o.key}, {"hash", o.hash}, {"size", o.size}};
    if (o.local) j["node"] = node;
    objects.push_back(std::move(j));
  }
  return {{"versions", versions}, {"objects", objects}, {"kept_young", r.keptYoung}, {"failures", r.failures}};
}

// Counts and bytes by kind, versions by function: the summary a person reads.
json totalsJson(const json& versions, const json& objects) {
  json byKind = json::object(), byFunction = json::object();
  uint64_t bytes = 0;
  for (const auto& o : objects) {
    auto& k = byKind[o["kind"].get<std::string>()];
    if (k.is_null()) k = {{"count", 0}, {"bytes", 0}};
    k["count"] = k["count"].get<uint64_t>() + 1;
    k["bytes"] = k["bytes"].get<uint64_t>() + o["size"].get<uint64_t>();
    bytes += o["size"].get<uint64_t>();
  }
  for (const auto& v : versions) byFunction[v["function"].get<std::string>()].push_back(v["version"]);
  return {{"versions", versions.size()}, {"objects", objects.size()}, {"bytes", bytes}, {"by_kind", byKind},
          {"versions_by_function", byFunction}};
}

}  // namespace

asio::awaitable<void> AdminApi::collectGarbage(http::Exchange& ex, std::string query) {
  if (!d_.gc) co_return co_await sendError(ex, 404, "not-found", "garbage collection is not available on this node");
  const std::string dry = queryParam(query, "dry_run");
  if (!dry.empty() && dry != "true" && dry != "false")
    co_return co_await sendError(ex, 400, "bad-request", "dry_run must be 'true' or 'false'");
  const bool dryRun = dry == "true";
  // A peer's part: its own files only (the node that asked did the rest;
  // a dry run counts what the asking node's retention, `keep`, would delete).
  const bool peerPart =
      d_.cluster && (queryParam(query, "local") == "true" || d_.cluster->forwardedIn(ex.request()).has_value());
  uint32_t keep = 0;
  if (const std::string k = queryParam(query, "keep"); !k.empty()) {
    if (k.size() > 9 || k.find_first_not_of("0123456789") != std::string::npos)
      co_return co_await sendError(ex, 400, "bad-request", "keep must be a number of versions");
    keep = static_cast<uint32_t>(std::stoul(k));
  }
  // Database and store round trips: on the registry pool, as db() does
  // (admin_api.cc), never on this connection's I/O thread.
  auto home = co_await asio::this_coro::executor;
  co_await asio::post(asio::bind_executor(d_.registryPool, asio::use_awaitable));
  std::optional<Result<gc::Report>> collected;
  try {
    collected.emplace(peerPart ? d_.gc->collectLocal(dryRun, keep) : d_.gc->collect(dryRun));
  } catch (const std::exception& e) {
    collected.emplace(Error{std::string("garbage collection: ") + e.what()});
  }
  co_await asio::post(asio::bind_executor(home, asio::use_awaitable));
  auto& report = *collected;
  if (!report) {
    if (report.error().code == gc::kGcBusy) co_return co_await sendError(ex, 409, gc::kGcBusy, report.error().message);
    co_return co_await failed(ex, report.error());
  }
  const std::string self = selfId();
  json body = reportJson(*report, self);
  body["dry_run"] = dryRun;
  body["keep_versions"] = d_.gc->config().keepVersions;
  body["grace_s"] = std::chrono::duration_cast<std::chrono::seconds>(d_.gc->config().grace).count();
  json nodes = json::array();
  nodes.push_back({{"node", self}, {"self", true}});
  if (d_.cluster && !peerPart) {
    std::vector<PeerQuestion> questions;
    for (const auto& id : upPeers(*d_.cluster))
      questions.push_back({id,
                           std::string("/_fn0/api/v1/gc?local=true&dry_run=") + (dryRun ? "true" : "false") +
                               "&keep=" + std::to_string(d_.gc->config().keepVersions),
                           "POST"});
    std::vector<http::Header> headers = peerAuth(ex.request());
    auto& peers = d_.cluster->peers();
    const size_t maxBody = kMaxPeerReportBytes;
    const auto deadline = kPeerSweepDeadline;  // named: no temporaries in a co_await (g++ 12)
    auto answers = co_await askPeers(peers, std::move(questions), std::move(headers), maxBody, deadline);
    for (auto& a : answers) {
      const bool usable = a.body && (*a.body)["objects"].is_array() && (*a.body)["failures"].is_array();
      if (!usable) {
        nodes.push_back({{"node", a.peer}, {"error", a.error.empty() ? "an answer of another shape" : a.error}});
        continue;
      }
      for (auto o : (*a.body)["objects"])
        if (o.is_object() && o["size"].is_number_unsigned() && o["kind"].is_string()) {
          o["node"] = a.peer;
          body["objects"].push_back(std::move(o));
        }
      for (const auto& f : (*a.body)["failures"])
        if (f.is_string()) body["failures"].push_back(a.peer + ": " + f.get<std::string>());
      if ((*a.body)["kept_young"].is_number_unsigned())
        body["kept_young"] = body["kept_young"].get<uint64_t>() + (*a.body)["kept_young"].get<uint64_t>();
      nodes.push_back({{"node", a.peer}});
    }
  }
  body["nodes"] = nodes;
  body["totals"] = totalsJson(body["versions"], body["objects"]);
  co_await sendJson(ex, 200, body);
}

}  // namespace fn0::admin
