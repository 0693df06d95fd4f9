// Dashboard login: /session trades an admin token for a session cookie
// (and a CSRF token the page keeps in memory), says who is logged in, and
// logs out. authenticate() tells every API request's caller: a bearer
// token, or a session cookie looked up in the registry (cached briefly for
// reads, see auth.h).
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "common/random.h"
#include "common/sha256.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

std::string sha256Of(const std::string& s) {
  return sha256Hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

json AdminApi::loginMethods() const { return json::array({"token"}); }

json AdminApi::sessionJson(const Caller& c) const {
  return {{"authenticated", true},      {"csrf", c.csrf},           {"role", c.role},
          {"subject", c.subject},       {"expires_at", c.expiresAt}, {"methods", loginMethods()}};
}

asio::awaitable<Caller> AdminApi::authenticate(const http::Request& req) {
  Caller c;
  if (const auto presented = bearerHash(req); !presented.empty()) {
    // From the catalog: a token works while the registry database is away.
    if (auto t = d_.registry.token(presented)) {
      c.via = Caller::Via::Token;
      c.role = t->role;
      c.subject = t->name;
      c.tokenHash = presented;
      c.token = std::move(*t);
      auto touch = [&] {
        d_.registry.touchToken(presented);
        return Result<void>{};
      };
      (void)co_await db(touch);
    }
    co_return c;  // a wrong bearer token is not rescued by a cookie
  }
  const std::string cookie = cookieValue(req, kSessionCookie);
  if (cookie.empty() || cookie.size() > 256) co_return c;
  const std::string idHash = sha256Of(cookie);
  const auto now = std::chrono::steady_clock::now();
  std::optional<registry::Registry::Session> s;
  if (isSafeMethod(req.method)) s = sessions_.get(idHash, now);
  if (!s) {
    auto op = [&] { return d_.registry.session(idHash); };
    auto found = co_await db(op);
    if (!found) throw RegistryFailure{found.error()};
    if (!*found) co_return c;
    s = std::move(**found);
    sessions_.put(*s, now);
  }
  if (s->expiresAt <= unixNow()) co_return c;
  // Made with a token: the token's role and scope now (revoked: over).
  if (!s->tokenHash.empty()) {
    auto t = d_.registry.token(s->tokenHash);
    if (!t) co_return c;
    c.token = std::move(*t);
    s->role = c.token.role;
  }
  c.via = Caller::Via::Session;
  c.role = s->role;
  c.subject = s->subject;
  c.tokenHash = s->tokenHash;
  c.sessionHash = idHash;
  c.csrf = s->csrf;
  c.expiresAt = s->expiresAt;
  co_return c;
}

asio::awaitable<void> AdminApi::sessionRoute(http::Exchange& ex) {
  const http::Request& req = ex.request();
  const std::string& m = req.method;
  const bool secure = viaTls(req);
  if (m == "GET") {
    const Caller c = co_await authenticate(req);
    json body = c.via == Caller::Via::Session ? sessionJson(c)
                                              : json{{"authenticated", false}, {"methods", loginMethods()}};
    co_await sendJson(ex, 200, body);
    co_return;
  }
  if (m == "DELETE") {
    const Caller c = co_await authenticate(req);
    if (c.via == Caller::Via::Session) {
      if (!csrfOk(req, c.csrf))
        co_return co_await sendError(ex, 403, "csrf", "this request needs the session's X-CSRF-Token and this node's Origin");
      sessions_.erase(c.sessionHash);
      auto op = [&] { return d_.registry.deleteSession(c.sessionHash); };
      auto r = co_await db(op);
      if (!r) co_return co_await failed(ex, r.error());
      const std::string action = "logout", function;
      const json detail = json::object();
      co_await recordAudit(req, c, action, function, detail, 200);
    }
    std::vector<http::Header> headers = {{"content-type", "application/json"},
                                         {"set-cookie", clearedSessionCookie(secure)},
                                         {"cache-control", "no-store"}};
    std::string out = json{{"authenticated", false}, {"methods", loginMethods()}}.dump() + "\n";
    co_await http::respond(ex, 200, std::move(headers), std::move(out));
    co_return;
  }
  // POST: log in with a token.
  const std::string client = clientAddress(req);
  if (const int64_t wait = logins_.retryAfter(client, std::chrono::steady_clock::now()); wait > 0) {
    std::vector<http::Header> headers = {{"content-type", "application/json"}, {"retry-after", std::to_string(wait)}};
    std::string out = json{{"error", "too-many-logins"},
                           {"message", "too many failed logins from this address; try again in " +
                                           std::to_string(wait) + " s"},
                           {"request_id", req.requestId}}
                          .dump() +
                      "\n";
    headers.emplace_back("fn0-error", "too-many-logins");
    co_await http::respond(ex, 429, std::move(headers), std::move(out));
    co_return;
  }
  if (!sameOrigin(req)) co_return co_await sendError(ex, 403, "csrf", "a login must come from this node's own page");
  auto body = co_await readAll(ex, 64 * 1024);
  json j = body ? json::parse(*body, nullptr, false) : json();
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string())
    co_return co_await sendError(ex, 400, "bad-request", "body must be {\"token\": \"...\"}");
  const std::string tokenHash = sha256Of(j["token"].get<std::string>());
  const auto token = d_.registry.token(tokenHash);
  if (!token) {
    logins_.failed(client, std::chrono::steady_clock::now());
    co_await sendError(ex, 401, "unauthorized", "that token is not valid on this node");
    const std::string action = "login.failed", function;
    const json detail = {{"method", "token"}};
    const Caller nobody;
    co_await recordAudit(req, nobody, action, function, detail, 401);
    co_return;
  }
  logins_.succeeded(client);
  const std::string cookie = randomHex(32);
  registry::Registry::Session s;
  s.idHash = sha256Of(cookie);
  s.csrf = randomHex(24);
  s.role = token->role;
  s.subject = token->name;
  s.tokenHash = tokenHash;
  s.createdAt = unixNow();
  s.expiresAt = s.createdAt + kSessionLifetime.count();
  auto op = [&] {
    (void)d_.registry.purgeSessions();  // expired ones: the table stays small
    return d_.registry.createSession(s);
  };
  auto r = co_await db(op);
  if (!r) co_return co_await failed(ex, r.error());
  Caller c;
  c.via = Caller::Via::Session;
  c.role = s.role;
  c.subject = s.subject;
  c.csrf = s.csrf;
  c.expiresAt = s.expiresAt;
  c.token = *token;
  std::vector<http::Header> headers = {{"content-type", "application/json"},
                                       {"set-cookie", sessionCookie(cookie, kSessionLifetime, secure)},
                                       {"cache-control", "no-store"}};
  std::string out = sessionJson(c).dump() + "\n";
  co_await http::respond(ex, 200, std::move(headers), std::move(out));
  const std::string action = "login", function;
  const json detail = {{"method", "token"}, {"token", token->id}};
  co_await recordAudit(req, c, action, function, detail, 200);
}

}  // namespace fn0::admin
