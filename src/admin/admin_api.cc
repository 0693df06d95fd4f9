#include "admin/admin_api.h"
#include "admin/held_answer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "admin/access.h"
#include "admin/audit_words.h"
#include "admin/request_util.h"
#include "common/failpoint.h"
#include "common/sha256.h"
#include "common/version.h"
#include "dashboard/dashboard.h"
#include "dispatch/respond.h"
#include "runtime/engine.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

json versionJson(const registry::VersionInfo& v) {
  return {{"version", "v" + std::to_string(v.number)}, {"number", v.number}, {"hash", v.hash},
          {"size", v.size}, {"created_at", v.createdAt},
          {"created_by", v.createdBy.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.createdBy)}};
}

json functionJson(const registry::FunctionInfo& f) {
  json aliases = json::object();
  for (const auto& [k, v] : f.aliases) aliases[k] = "v" + std::to_string(v);
  json versions = json::array();
  for (const auto& v : f.versions) versions.push_back(versionJson(v));
  return {{"name", f.name},
          {"created_at", f.createdAt},
          {"live", f.aliases.count("live") ? json("v" + std::to_string(f.aliases.at("live"))) : json(nullptr)},
          {"aliases", aliases},
          {"versions", versions},
          {"env", f.env},
          {"secrets", f.secretNames},
          {"settings", json::parse(f.settings.toJson())}};
}

std::optional<int64_t> parseVersion(const std::string& s) {
  std::string digits = (!s.empty() && s[0] == 'v') ? s.substr(1) : s;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 15)
    return std::nullopt;
  return std::stoll(digits);
}

// "10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8".
bool validRange(const std::string& s) {
  auto slash = s.find('/');
  std::string ip = s.substr(0, slash);
  unsigned char buf[16];
  int max = 0;
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) max = 32;
  else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) max = 128;
  else return false;
  if (slash == std::string::npos) return true;
  std::string p = s.substr(slash + 1);
  if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(p) <= max;
}

// A range, optionally with one port (engine/src/outbound.rs parses the
// same): "10.0.0.0/8", "127.0.0.1/32:8080", "::1", "[fd00::/8]:443".
bool validCidr(const std::string& s) {
  auto validPort = [](const std::string& p) {
    return !p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos &&
           std::stoi(p) >= 1 && std::stoi(p) <= 65535;
  };
  if (!s.empty() && s[0] == '[') {
    auto close = s.find("]:");
    return close != std::string::npos && validRange(s.substr(1, close - 1)) && validPort(s.substr(close + 2));
  }
  if (std::count(s.begin(), s.end(), ':') == 1) {
    auto colon = s.find(':');
    return validRange(s.substr(0, colon)) && validPort(s.substr(colon + 1));
  }
  return validRange(s);
}

}  // namespace

namespace {

// One of a bounded number of deploys in progress: taken if `count` is below
// `limit`, given back on every way out of the deploy.
class DeploySlot {
 public:
  DeploySlot(std::atomic<uint32_t>& count, uint32_t limit) : count_(count) {
    held_ = count_.fetch_add(1) < limit;
    if (!held_) count_--;
  }
  DeploySlot(const DeploySlot&) = delete;
  DeploySlot& operator=(const DeploySlot&) = delete;
  ~DeploySlot() {
    if (held_) count_--;
  }
  explicit operator bool() const { return held_; }

 private:
  std::atomic<uint32_t>& count_;
  bool held_;
};

}  // namespace

AdminApi::AdminApi(AdminDeps deps) : d_(std::move(deps)) {}

asio::awaitable<Result<void>> AdminApi::kvRun(bool write, std::function<void(kv::KvStore&)> f) {
  auto op = [&] { return d_.kv->runAndWait(write, f); };
  co_return co_await db(op);
}

// The function `name`, std::nullopt if there is none; a registry failure
// is thrown (RegistryFailure) and answered by serve().
asio::awaitable<std::optional<registry::FunctionInfo>> AdminApi::loadFunction(std::string name) {
  auto op = [&] { return d_.registry.function(name); };
  auto f = co_await db(op);
  if (!f) throw RegistryFailure{f.error()};
  co_return std::move(*f);
}

bool AdminApi::metricsAllowed(const http::Request& request) {
  if (d_.metricsTokenHash.empty()) return true;  // open: the README says when that is fine
  const auto presented = bearerHash(request);
  if (presented.empty()) return false;
  if (constantTimeEqual(presented, d_.metricsTokenHash)) return true;
  return d_.registry.hasTokenHash(presented);
}

asio::awaitable<void> AdminApi::serve(http::Exchange& ex) {
  const auto& target = ex.request().target;
  auto q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  ex.annotate("platform", path);
  const std::string& method = ex.request().method;
  if (path == "/_fn0/ping") {
    // The same HTTP stack answering a fixed response, no wasm: the baseline
    // `make bench` compares functions with.
    std::vector<http::Header> headers = {{"content-type", "text/plain"}};
    std::string pong = "ok\n";
    co_await http::respond(ex, 200, std::move(headers), std::move(pong));
    co_return;
  }
  if (path == "/_fn0/healthz") {
    const json ok = json{{"status", "ok"}};
    co_await sendJson(ex, 200, ok);
    co_return;
  }
  if (path == "/_fn0/readyz") {
    // Not ready while shutting down, so a load balancer stops sending (and
    // a client asking again later may find the node, or its successor, up).
    const bool ready = !ex.stopping();
    std::vector<http::Header> headers = {{"content-type", "application/json"}};
    if (!ready) headers.emplace_back("retry-after", "1");
    std::string state = json{{"status", ready ? "ready" : "stopping"}}.dump() + "\n";
    const int status = ready ? 200 : 503;  // named: no ?: inside a co_await (g++ 12)
    co_await http::respond(ex, status, std::move(headers), std::move(state));
    co_return;
  }
  if (path == "/_fn0/api/v1/openapi.json") {
    std::vector<http::Header> headers = {{"content-type", "application/json"}};
    std::string doc = kOpenApiJson;
    co_await http::respond(ex, 200, std::move(headers), std::move(doc));
    co_return;
  }
  if (path == "/_fn0/metrics") {
    if (!metricsAllowed(ex.request()))
      co_return co_await sendError(ex, 401, "unauthorized",
                                   "the metrics token or an admin token is required (Authorization: Bearer ...)");
    std::vector<http::Header> headers = {{"content-type", "text/plain; version=0.0.4"}};
    std::string text = d_.metrics.render();
    co_await http::respond(ex, 200, std::move(headers), std::move(text));
    co_return;
  }
  if (path.rfind("/_fn0/api/v1/", 0) == 0) {
    const std::string rel = path.substr(std::string("/_fn0/api/v1").size());
    if (rel.size() > kMaxApiPathBytes)
      co_return co_await sendError(ex, 414, "uri-too-long",
                                   "API paths are at most " + std::to_string(kMaxApiPathBytes) + " bytes");
    std::optional<Error> failure;
    try {
      co_await apiRequest(ex, rel, query);
    } catch (const RegistryFailure& f) {
      failure = f.error;
    }
    if (failure) co_await failed(ex, *failure);
    co_return;
  }
  if (path.rfind("/_fn0/auth/", 0) == 0) {
    // People's logins through the OpenID provider: pages and the CLI's
    // device login, outside the API (they need no credentials).
    std::optional<Error> failure;
    try {
      co_await oidcRoute(ex, path, query);
    } catch (const RegistryFailure& f) {
      failure = f.error;
    }
    if (failure) co_await failed(ex, *failure);
    co_return;
  }
  if (dashboard::isDashboardPath(path)) {
    co_await dashboard::serve(ex, path);
    co_return;
  }
  (void)method;
  co_await sendError(ex, 404, "not-found", "no platform endpoint " + path.substr(0, 256));
}

asio::awaitable<void> AdminApi::apiRequest(http::Exchange& ex, const std::string& rel, const std::string& query) {
  const http::Request& req = ex.request();
  // /session is how a page logs in: it needs no credentials of its own.
  if (rel == "/session") {
    if (req.method != "GET" && req.method != "POST" && req.method != "DELETE")
      co_return co_await sendError(ex, 405, "method-not-allowed", req.method + " is not allowed on " + rel);
    co_return co_await sessionRoute(ex);
  }
  // Every other route needs a valid token or session; nothing else is said
  // without one.
  const Caller caller = co_await authenticate(req);
  if (!caller)
    co_return co_await sendError(ex, 401, "unauthorized",
                                 "a valid admin token (Authorization: Bearer ...) or a dashboard session is required");
  // A browser sends the cookie with a request another site makes it send:
  // a change carried by a cookie must show the page's CSRF token.
  // A peer passing on a request (a cluster-wide sweep) already checked it.
  const bool fromPeer = d_.cluster && d_.cluster->forwardedIn(req).has_value();
  if (caller.via == Caller::Via::Session && !caller.bearer && !isSafeMethod(req.method) && !fromPeer &&
      !csrfOk(req, caller.csrf))
    co_return co_await sendError(ex, 403, "csrf",
                                 "a change made with a session cookie needs the session's X-CSRF-Token header and "
                                 "this node's Origin");
  RouteMatch match = matchRoute(apiRoutes(), req.method, rel);
  if (match.malformed) co_return co_await sendError(ex, 400, "bad-request", "broken percent-encoding in " + rel);
  if (!match.found) co_return co_await sendError(ex, 404, "not-found", "no API route " + rel);
  if (!match.methodOk) co_return co_await sendError(ex, 405, "method-not-allowed", req.method + " is not allowed on " + rel);
  ApiCall call{caller};
  // Every change is audited, refused or not (what was asked, by whom, the
  // answer), before the answer leaves: see held_answer.h.
  const bool audited = !isSafeMethod(req.method) && !fromPeer;
  HeldAnswer held(ex);
  http::Exchange& out = audited ? static_cast<http::Exchange&>(held) : ex;
  if (auto no = refusal(caller, req.method, match.route, match.params)) {
    const std::string reason = "forbidden";
    co_await sendError(out, 403, reason, *no);
  } else {
    co_await api(out, call, match.route, match.params, query);
  }
  if (!audited) co_return;
  const std::string function = match.route.rfind("/functions/{name}", 0) == 0 ? match.params[0] : "";
  co_await recordAudit(req, caller, auditAction(req.method, match.route), function,
                       auditDetail(match.route, match.params, call.detail), out.responseStatus());
  co_await held.release();
}

std::vector<http::Header> AdminApi::peerAuth(const http::Request& req) {
  std::vector<http::Header> h;
  if (auto a = requestHeader(req, "authorization"); !a.empty()) h.emplace_back("authorization", std::move(a));
  if (auto c = requestHeader(req, "cookie"); !c.empty()) h.emplace_back("cookie", std::move(c));
  return h;
}

json AdminApi::clusterJson() const {
  const uint32_t running = d_.admission ? d_.admission->running() : 0;
  const uint32_t capacity = d_.admission ? d_.admission->nodeLimit() : 0;
  if (!d_.cluster) {
    // One node: itself, always up.
    json self = {{"id", selfId()}, {"self", true}, {"state", "up"}, {"running", running},
                 {"capacity", capacity}, {"warm", d_.cache.stats().entries}, {"last_heartbeat_ms", 0}};
    return json{{"clustered", false}, {"forwarding", false}, {"nodes", json::array({self})}};
  }
  auto& c = *d_.cluster;
  const auto view = c.membership().view();
  const auto now = std::chrono::steady_clock::now();
  json nodes = json::array();
  for (const auto& mb : view->members) {
    std::string state = mb.state;
    if (state == "up" && !c.membership().up(mb, now)) state = c.membership().suspected(mb) ? "suspect" : "gone";
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - mb.beatAt).count();
    json n = {{"id", mb.id}, {"address", mb.id}, {"self", mb.self}, {"state", state},
              {"running", mb.self ? running : mb.running}, {"capacity", mb.self ? capacity : mb.capacity},
              {"warm", mb.self ? d_.cache.stats().entries : mb.warmCount}, {"last_heartbeat_ms", age},
              {"started_at", mb.startedMs / 1000}};
    nodes.push_back(std::move(n));
  }
  const auto s = c.membership().stats();
  return json{{"clustered", true}, {"self", c.self()}, {"forwarding", c.forwarding()},
              {"membership", {{"connected", s.connected}, {"beats", s.beats}}}, {"nodes", nodes}};
}

json AdminApi::functionLimitsJson() const {
  // What a function gets when a setting is unset (`default`) and the most
  // it may set (`max`, a higher value is lowered to it): dispatch's
  // functionLimits() and the admission's per-function share.
  const auto& n = d_.nodeLimits;
  auto ms = [](std::chrono::nanoseconds d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  auto both = [](uint64_t dflt, uint64_t max) { return json{{"default", dflt}, {"max", max}}; };
  const uint64_t share = d_.admission ? d_.admission->functionShare() : 0;
  json out = {{"cpu_ms", both(ms(n.cpuTime), ms(n.cpuTime))},
              {"duration_ms", both(ms(n.duration), ms(n.duration))},
              {"memory_mb", both(n.maxMemoryBytes >> 20, n.maxMemoryBytes >> 20)},
              {"max_subrequests", both(n.maxSubrequests, n.maxSubrequests)},
              {"reuse_instance_requests", both(0, n.reuseInstanceRequests)},
              {"instance_concurrency", both(0, n.instanceConcurrency)}};
  if (share) out["max_concurrency"] = both(share, share);
  if (d_.logRetentionMb) out["log_retention_mb"] = both(d_.logRetentionMb, d_.logRetentionMb);
  if (d_.logRetentionMb && d_.logRetentionHours)
    out["log_retention_hours"] = both(d_.logRetentionHours, d_.logRetentionHours);
  return out;
}

asio::awaitable<void> AdminApi::api(http::Exchange& ex, ApiCall& call, const std::string& route,
                                    const std::vector<std::string>& p, const std::string& query) {
  const std::string& m = ex.request().method;

  if (route == "/status" && m == "GET") {
    auto s = d_.cache.stats();
    const auto w = d_.registry.watchStats();
    {
    const json body2 = json{{"fn0", kVersion},
                           {"wasmtime", runtime::wasmtimeVersion()},
                           {"functions", d_.registry.catalog()->functions.size()},
                           {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - started_)
                                            .count()},
                           {"cache", {{"entries", s.entries}, {"bytes", s.bytes}, {"hits", s.hits}, {"loads", s.loads}, {"compiles", s.compiles},
                                      {"baseline_compiles", s.baselineCompiles}, {"baseline_optimized", s.optimized}}},
                           {"deploys", {{"in_progress", deploys_.load()}, {"compiling", compiling_.load()}, {"max", d_.maxDeploys}}},
                           {"registry", {{"kind", d_.registry.kind()}, {"generation", d_.registry.catalog()->generation},
                                         {"watching", w.watching}, {"connected", w.connected || !w.watching}}},
                           {"store", {{"location", d_.library.describeStore()}, {"shares_artifacts", d_.library.sharesArtifacts()}}},
                           {"function_limits", functionLimitsJson()}};
    co_await sendJson(ex, 200, body2);
    }
    co_return;
  }
  if (route == "/gc" && m == "POST") co_return co_await collectGarbage(ex, query);
  if (route == "/cluster" && m == "GET") {
    const json body = clusterJson();
    co_await sendJson(ex, 200, body);
    co_return;
  }
  if (route == "/functions" && m == "GET") {
    auto op = [&] { return d_.registry.functions(); };
    auto fns = co_await db(op);
    if (!fns) co_return co_await failed(ex, fns.error());
    json list = json::array();
    for (const auto& f : *fns)
      if (canSee(call.caller, f.name)) list.push_back(functionJson(f));
    {
    const json body3 = json{{"functions", list}};
    co_await sendJson(ex, 200, body3);
    }
    co_return;
  }
  if (route == "/functions/{name}/versions") {
    std::string name = p[0];
    if (m == "POST") {
      co_await deploy(ex, call, name, queryParam(query, "live") != "false");
      co_return;
    }
    if (m == "GET") {
      auto f = co_await loadFunction(name);
      if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
      json list = json::array();
      for (const auto& v : f->versions) list.push_back(versionJson(v));
      {
    const json body4 = json{{"function", name}, {"versions", list}};
    co_await sendJson(ex, 200, body4);
    }
      co_return;
    }
  }
  if (route == "/functions/{name}") {
    std::string name = p[0];
    if (m == "GET") {
      auto f = co_await loadFunction(name);
      if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
      {
    const json body5 = functionJson(*f);
    co_await sendJson(ex, 200, body5);
    }
      co_return;
    }
    if (m == "DELETE") {
      // Its key-value data goes only when asked to (?kv=delete) or is kept
      // on purpose (?kv=keep); a bucket with data and neither is a 409.
      const std::string kvChoice = queryParam(query, "kv");
      if (!kvChoice.empty() && kvChoice != "delete" && kvChoice != "keep")
        co_return co_await sendError(ex, 400, "bad-request", "kv must be 'delete' or 'keep'");
      // The registry first: when its database is away, that is the answer.
      auto existing = co_await loadFunction(name);
      if (!existing) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
      kv::KvUsage usage;
      if (d_.kv && kvChoice.empty()) {
        auto u = co_await kvRun(false, [&](kv::KvStore& s) { usage = s.usage(kv::functionBucket(name)); });
        if (!u) co_return co_await failed(ex, u.error());
        if (usage.keys > 0) {
          json details = {{"keys", usage.keys}, {"bytes", usage.bytes}};
          co_return co_await sendError(
              ex, 409, "has-data",
              "'" + name + "' has " + std::to_string(usage.keys) + " keys (" + std::to_string(usage.bytes) +
                  " bytes) in its key-value bucket: delete with ?kv=delete to delete them too, or ?kv=keep to keep them",
              std::move(details));
        }
      }
      auto op = [&] { return d_.registry.deleteFunction(name); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      if (!*r) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
      if (d_.kv && kvChoice == "delete") {
        auto dropped = co_await kvRun(true, [&](kv::KvStore& s) { s.dropBucket(kv::functionBucket(name)); });
        if (!dropped) co_return co_await failed(ex, dropped.error());
      }
      d_.logs.drop(name);
      d_.metrics.forget(name);
      {
    const json body6 = json{{"deleted", name}};
    co_await sendJson(ex, 200, body6);
    }
      co_return;
    }
  }
  if (route == "/functions/{name}/versions/{version}/component" && m == "GET") {
    std::string name = p[0];
    auto f = co_await loadFunction(name);
    auto num = parseVersion(p[1]);
    if (!f || !num) co_return co_await sendError(ex, 404, "not-found", "no such function or version");
    for (const auto& v : f->versions) {
      if (v.number != *num) continue;
      auto bytes = d_.library.original(v.hash);
      if (!bytes) co_return co_await failed(ex, bytes.error());
      std::vector<http::Header> headers = {
          {"content-type", "application/wasm"},
          {"content-disposition", "attachment; filename=\"" + name + "-v" + std::to_string(v.number) + ".wasm\""}};
      co_await http::respond(ex, 200, headers, std::string(bytes->begin(), bytes->end()));
      co_return;
    }
    co_return co_await sendError(ex, 404, "not-found", "no version " + p[1] + " of '" + name + "'");
  }
  if (route == "/functions/{name}/aliases" && m == "GET") {
    auto f = co_await loadFunction(p[0]);
    if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + p[0] + "'");
    {
    const json body7 = functionJson(*f)["aliases"];
    co_await sendJson(ex, 200, body7);
    }
    co_return;
  }
  if (route == "/functions/{name}/aliases/{alias}") {
    std::string name = p[0], alias = p[1];
    if (m == "PUT") {
      auto body = co_await readAll(ex, 1 << 20);
      json j = body ? json::parse(*body, nullptr, false) : json();
      std::optional<int64_t> num;
      if (j.is_object() && j.contains("version")) {
        if (j["version"].is_number_integer()) num = j["version"].get<int64_t>();
        else if (j["version"].is_string()) num = parseVersion(j["version"].get<std::string>());
      }
      if (!num) co_return co_await sendError(ex, 400, "bad-request", "body must be {\"version\": \"v3\"} or {\"version\": 3}");
      auto op = [&] { return d_.registry.setAlias(name, alias, *num); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error(), 400, "bad-request");
      {
    const json body8 = json{{"function", name}, {"alias", alias}, {"version", "v" + std::to_string(*num)}};
    co_await sendJson(ex, 200, body8);
    }
      co_return;
    }
    if (m == "DELETE") {
      if (alias == "live") co_return co_await sendError(ex, 400, "bad-request", "the live alias can be moved, not deleted");
      auto op = [&] { return d_.registry.deleteAlias(name, alias); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      if (!*r) co_return co_await sendError(ex, 404, "not-found", "no alias '" + alias + "'");
      {
    const json body9 = json{{"deleted", alias}};
    co_await sendJson(ex, 200, body9);
    }
      co_return;
    }
  }
  if (route == "/functions/{name}/env" && m == "GET") {
    auto f = co_await loadFunction(p[0]);
    if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + p[0] + "'");
    {
    const json body10 = json(f->env);
    co_await sendJson(ex, 200, body10);
    }
    co_return;
  }
  if (route == "/functions/{name}/secrets" && m == "GET") {
    auto f = co_await loadFunction(p[0]);
    if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + p[0] + "'");
    {
    const json body11 = json{{"secrets", f->secretNames}};
    co_await sendJson(ex, 200, body11);
    }
    co_return;
  }
  bool isEnv = route == "/functions/{name}/env/{key}";
  if (isEnv || route == "/functions/{name}/secrets/{key}") {
    std::string name = p[0], key = p[1];
    auto f = co_await loadFunction(name);
    if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
    if (m == "PUT") {
      // Checked before anything is stored: one bad name or value would be
      // part of every instance of the function (registry.h has the rules).
      if (auto bad = registry::checkVarName(key); !bad) co_return co_await sendError(ex, 400, "bad-request", bad.error().message);
      auto body = co_await readAll(ex, 1 << 20);
      json j = body ? json::parse(*body, nullptr, false) : json();
      if (!j.is_object() || !j.contains("value") || !j["value"].is_string())
        co_return co_await sendError(ex, 400, "bad-request", "body must be {\"value\": \"...\"}");
      const std::string value = j["value"].get<std::string>();
      if (auto bad = registry::checkVarValue(value); !bad) co_return co_await sendError(ex, 400, "bad-request", bad.error().message);
      const bool exists = isEnv ? f->env.count(key) > 0
                                : std::find(f->secretNames.begin(), f->secretNames.end(), key) != f->secretNames.end();
      if (!exists && f->env.size() + f->secretNames.size() >= registry::kMaxVarsPerFunction)
        co_return co_await sendError(ex, 400, "bad-request",
                                     "a function has at most " + std::to_string(registry::kMaxVarsPerFunction) +
                                         " variables and secrets together");
      auto op = [&] { return isEnv ? d_.registry.setEnv(name, key, value) : d_.registry.setSecret(name, key, value); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      {
    const json body12 = json{{"function", name}, {isEnv ? "env" : "secret", key}};
    co_await sendJson(ex, 200, body12);
    }
      co_return;
    }
    if (m == "DELETE") {
      auto op = [&] { return isEnv ? d_.registry.unsetEnv(name, key) : d_.registry.deleteSecret(name, key); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      if (!*r) co_return co_await sendError(ex, 404, "not-found", "no such variable '" + key + "'");
      {
    const json body13 = json{{"deleted", key}};
    co_await sendJson(ex, 200, body13);
    }
      co_return;
    }
  }
  if (route.rfind("/functions/{name}/kv", 0) == 0) co_return co_await kvRoute(ex, route, p, query);
  if (route == "/functions/{name}/settings") {
    std::string name = p[0];
    auto f = co_await loadFunction(name);
    if (!f) co_return co_await sendError(ex, 404, "not-found", "no function named '" + name + "'");
    if (m == "PUT") {
      auto body = co_await readAll(ex, 1 << 20);
      auto st = registry::FunctionSettings::fromJson(body ? *body : "");
      if (!st) co_return co_await sendError(ex, 400, "bad-request", st.error().message);
      for (const auto& cidr : st->allow)
        if (!validCidr(cidr))
          co_return co_await sendError(ex, 400, "bad-request", "not an address range: '" + cidr + "' (e.g. 10.0.0.0/8, ::1, 127.0.0.1/32:8080, [::1]:8080)");
      auto op = [&] { return d_.registry.setSettings(name, *st); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      f->settings = *st;
    }
    const json settings = json::parse(f->settings.toJson());
    co_await sendJson(ex, 200, settings);
    co_return;
  }
  if (route == "/functions/{name}/logs" && m == "GET") {
    co_await logs(ex, p[0], query);
    co_return;
  }
  if (route == "/series" && m == "GET") co_return co_await series(ex, nullptr, query);
  if (route == "/functions/{name}/series" && m == "GET") {
    const std::string name = p[0];
    co_return co_await series(ex, &name, query);
  }
  if (route == "/stats" && m == "GET") co_return co_await stats(ex, call.caller, query);
  if (route.rfind("/tokens", 0) == 0) co_return co_await tokensRoute(ex, call, route, p);
  if (route == "/audit" && m == "GET") co_return co_await auditRoute(ex, query);
  if (route == "/functions/{name}/metrics" && m == "GET") {
    co_await functionMetrics(ex, p[0], query);
    co_return;
  }
  co_await sendError(ex, 404, "not-found", "no API route " + ex.request().method + " " + route);
}

asio::awaitable<void> AdminApi::deploy(http::Exchange& ex, ApiCall& call, const std::string& name, bool live) {
  if (!registry::isDnsLabel(name))
    co_return co_await sendError(ex, 400, "bad-request",
                                 "invalid function name '" + name.substr(0, 80) + "': " + registry::kFunctionNameRule);
  // Deploys in progress are bounded (each holds its upload in memory and
  // then a compile thread): beyond the bound, 503 before reading the upload.
  DeploySlot slot(deploys_, d_.maxDeploys);
  if (!slot)
    co_return co_await sendError(ex, 503, "overloaded",
                                 "too many deploys in progress (" + std::to_string(d_.maxDeploys) + "); retry shortly");
  auto body = co_await readAll(ex, d_.maxUploadBytes);
  if (!body) co_return co_await sendError(ex, 413, "body-too-large", "the upload is too large or broke off");
  const auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body->data()), body->size());

  // Compile (which validates) first, and store the original only once it
  // passed: a rejected upload leaves nothing in blobs/. Then record the
  // version and move live in one transaction: a crash at any step leaves no
  // half-made version (at worst an unused artifact or blob, reused by a retry).
  auto home = co_await asio::this_coro::executor;
  co_await asio::post(asio::bind_executor(d_.compilePool, asio::use_awaitable));
  std::optional<Error> error;
  int status = 500;
  std::string reason = "internal";
  std::optional<registry::Registry::Added> added;
  {
    DeploySlot compiling(compiling_, UINT32_MAX);
    failpoint("deploy:received");
    // Compiled (the checks, validation), the original in the code store,
    // the artifact shared; then the version in the registry.
    auto hash = d_.library.add(bytes);
    if (!hash) {
      error = hash.error();
      if (hash.error().code.empty()) status = 400, reason = "invalid-component";
    } else if (auto a = d_.registry.addVersion(name, *hash, static_cast<int64_t>(bytes.size()), live,
                                                       call.caller.subject);
               !a) {
      error = a.error();
    } else {
      added = *a;
      failpoint("deploy:registered");
      (void)d_.cache.get(*hash);  // warm: the first request finds it pre-linked
    }
  }
  co_await asio::post(asio::bind_executor(home, asio::use_awaitable));
  if (!added) co_return co_await failed(ex, *error, status, reason);

  const std::string v = "v" + std::to_string(added->version.number);
  const std::string port = std::to_string(d_.port);
  json urls = {{"version", "http://" + v + "." + name + "." + d_.baseDomain + ":" + port + "/"},
               {"path", "http://127.0.0.1:" + port + "/" + name + "@" + v + "/"}};
  if (live) {
    urls["live"] = "http://" + name + "." + d_.baseDomain + ":" + port + "/";
    urls["live_path"] = "http://127.0.0.1:" + port + "/" + name + "/";
  }
  ex.annotate("deployed", name + "@" + v);
  call.detail["version"] = v;
  call.detail["hash"] = added->version.hash;
  call.detail["live"] = live;
  {
    const json body15 = json{{"function", name},
                         {"version", v},
                         {"hash", added->version.hash},
                         {"size", added->version.size},
                         {"created", added->created},
                         {"live", live},
                         {"urls", urls}};
    co_await sendJson(ex, added->created ? 201 : 200, body15);
    }
}

}  // namespace fn0::admin
