// API tokens (/tokens: create with a role and a scope, list, revoke) and
// the audit log (/audit, and recordAudit(), which every change and login
// goes through).
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "admin/admin_api.h"
#include "admin/audit_words.h"
#include "admin/request_util.h"
#include "common/random.h"
#include "common/sha256.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

std::string auditAction(const std::string& method, const std::string& route) {
  static const std::unordered_map<std::string, std::string> words = {
      {"POST /functions/{name}/versions", "deploy"},
      {"DELETE /functions/{name}", "function.delete"},
      {"PUT /functions/{name}/aliases/{alias}", "alias.set"},
      {"DELETE /functions/{name}/aliases/{alias}", "alias.delete"},
      {"PUT /functions/{name}/env/{key}", "env.set"},
      {"DELETE /functions/{name}/env/{key}", "env.delete"},
      {"PUT /functions/{name}/secrets/{key}", "secret.set"},
      {"DELETE /functions/{name}/secrets/{key}", "secret.delete"},
      {"PUT /functions/{name}/settings", "settings.set"},
      {"PUT /functions/{name}/kv/{key}", "kv.set"},
      {"DELETE /functions/{name}/kv/{key}", "kv.delete"},
      {"POST /functions/{name}/kv-import", "kv.import"},
      {"POST /tokens", "token.create"},
      {"DELETE /tokens/{id}", "token.revoke"},
  };
  auto it = words.find(method + " " + route);
  return it != words.end() ? it->second : method + " " + route;
}

json auditDetail(const std::string& route, const std::vector<std::string>& p, json detail) {
  if (route == "/functions/{name}/aliases/{alias}") detail["alias"] = p.at(1);
  if (route == "/functions/{name}/env/{key}" || route == "/functions/{name}/secrets/{key}") detail["name"] = p.at(1);
  if (route == "/functions/{name}/kv/{key}") detail["key"] = p.at(1).substr(0, 256);
  if (route == "/tokens/{id}") detail["token"] = p.at(0);
  return detail;
}

namespace {

json tokenJson(const registry::TokenInfo& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", t.role},
          {"functions", t.functions},
          {"created_by", t.createdBy},
          {"created_at", t.createdAt},
          {"last_used_at", t.lastUsedAt ? json(t.lastUsedAt) : json(nullptr)}};
}

json auditJson(const registry::AuditEntry& e) {
  json detail = json::parse(e.detail, nullptr, false);
  return {{"id", e.id},
          {"time", static_cast<double>(e.atMs) / 1000.0},
          {"actor", e.actor},
          {"via", e.via},
          {"role", e.role},
          {"action", e.action},
          {"function", e.function.empty() ? json(nullptr) : json(e.function)},
          {"detail", detail.is_discarded() ? json::object() : detail},
          {"client", e.client},
          {"request_id", e.requestId},
          {"status", e.status}};
}

bool validTokenName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@')) return false;
  return true;
}

}  // namespace

asio::awaitable<void> AdminApi::tokensRoute(http::Exchange& ex, ApiCall& call, const std::string& route,
                                            const std::vector<std::string>& p) {
  const std::string& m = ex.request().method;
  if (route == "/tokens" && m == "GET") {
    auto op = [&] { return d_.registry.tokens(); };
    auto list = co_await db(op);
    if (!list) co_return co_await failed(ex, list.error());
    json out = json::array();
    for (const auto& t : *list) out.push_back(tokenJson(t));
    const json body = {{"tokens", out}};
    co_return co_await sendJson(ex, 200, body);
  }
  if (route == "/tokens" && m == "POST") {
    auto body = co_await readAll(ex, 64 * 1024);
    json j = body ? json::parse(*body, nullptr, false) : json();
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
      co_return co_await sendError(ex, 400, "bad-request",
                                   "body must be {\"name\": \"ci-hello\", \"role\": \"deployer\", \"functions\": [\"hello\"]}");
    registry::TokenInfo t;
    t.name = j["name"].get<std::string>();
    if (!validTokenName(t.name))
      co_return co_await sendError(ex, 400, "bad-request",
                                   "a token name is 1-64 letters, digits and - _ . @");
    t.role = j.contains("role") && j["role"].is_string() ? j["role"].get<std::string>() : "admin";
    if (j.contains("functions")) {
      if (!j["functions"].is_array() || j["functions"].size() > 64)
        co_return co_await sendError(ex, 400, "bad-request", "functions must be a list of at most 64 names");
      for (const auto& f : j["functions"]) {
        if (!f.is_string()) co_return co_await sendError(ex, 400, "bad-request", "functions must be names");
        t.functions.push_back(f.get<std::string>());
      }
    }
    if (!t.functions.empty() && t.role != "deployer")
      co_return co_await sendError(ex, 400, "bad-request", "only a deployer token is limited to functions");
    t.createdBy = call.caller.subject;
    const std::string secret = "fn0_" + randomHex(24);
    const std::string hash = sha256Hex({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()});
    auto op = [&] { return d_.registry.addToken(hash, t); };
    auto made = co_await db(op);
    if (!made) co_return co_await failed(ex, made.error(), 400, "bad-request");
    call.detail["token"] = made->id;
    call.detail["name"] = made->name;
    call.detail["role"] = made->role;
    json out = tokenJson(*made);
    out["token"] = secret;  // shown this once
    const int created = 201;
    co_return co_await sendJson(ex, created, out);
  }
  if (route == "/tokens/{id}" && m == "DELETE") {
    const std::string id = p[0];
    auto op = [&] { return d_.registry.revokeToken(id); };
    auto r = co_await db(op);
    if (!r) co_return co_await failed(ex, r.error(), 409, "last-admin-token");
    if (!*r) co_return co_await sendError(ex, 404, "not-found", "no token with id '" + id + "'");
    const json body = {{"revoked", id}};
    co_return co_await sendJson(ex, 200, body);
  }
  co_await sendError(ex, 404, "not-found", "no API route " + m + " " + route);
}

asio::awaitable<void> AdminApi::auditRoute(http::Exchange& ex, const std::string& query) {
  registry::AuditQuery q;
  if (!percentDecode(queryParam(query, "function"), q.function) || !percentDecode(queryParam(query, "actor"), q.actor) ||
      !percentDecode(queryParam(query, "action"), q.action))
    co_return co_await sendError(ex, 400, "bad-request", "broken percent-encoding in the query");
  bool badNumber = false;
  try {
    if (auto v = queryParam(query, "before"); !v.empty()) q.beforeId = std::stoll(v);
    if (auto v = queryParam(query, "limit"); !v.empty()) q.limit = std::clamp<size_t>(std::stoull(v), 1, 1000);
    if (auto v = queryParam(query, "since"); !v.empty()) q.sinceMs = static_cast<int64_t>(std::stod(v) * 1000);
  } catch (...) {
    badNumber = true;
  }
  if (badNumber) co_return co_await sendError(ex, 400, "bad-request", "before, limit and since must be numbers");
  auto op = [&] { return d_.registry.audit(q); };
  auto entries = co_await db(op);
  if (!entries) co_return co_await failed(ex, entries.error());
  json out = json::array();
  for (const auto& e : *entries) out.push_back(auditJson(e));
  // The next page: entries older than the last one here.
  json next = entries->size() == q.limit ? json(entries->back().id) : json(nullptr);
  const json body = {{"entries", out}, {"next_before", next}};
  co_await sendJson(ex, 200, body);
}

asio::awaitable<void> AdminApi::recordAudit(const http::Request& req, const Caller& caller, std::string action,
                                            std::string function, json detail, int status) {
  registry::AuditEntry e;
  e.atMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count();
  e.actor = caller.subject.empty() ? "anonymous" : caller.subject;
  e.via = caller.via == Caller::Via::Session ? "session" : caller.via == Caller::Via::Token ? "token" : "none";
  e.role = caller.role;
  e.action = std::move(action);
  e.function = std::move(function);
  e.detail = detail.dump(-1, ' ', false, json::error_handler_t::replace);
  e.client = clientAddress(req);
  e.requestId = req.requestId;
  e.status = status;
  const int64_t nowS = e.atMs / 1000;
  const bool purge = nowS - auditPurgedAt_.load() > 3600;
  if (purge) auditPurgedAt_ = nowS;
  const int64_t days = d_.auditDays;
  auto op = [&] {
    if (purge) (void)d_.registry.purgeAudit(days);
    return d_.registry.addAudit(e);
  };
  auto r = co_await db(op);
  if (!r) d_.metrics.count("fn0_audit_failures_total");
}

}  // namespace fn0::admin
