// Dashboard login: /session trades an admin token for a session cookie
// (and a CSRF token the page keeps in memory), says who is logged in, and
// logs out. authenticate() tells every API request's caller: a bearer
// token, a session cookie, or a session the CLI holds as a bearer
// credential, looked up in the registry (cached briefly for reads, see
// auth.h). openSession() makes every session, whichever way its person
// logged in (here, or through the OpenID provider: oidc_views.cc).
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

json AdminApi::loginMethods() const {
  json m = json::array({"token"});
  if (d_.oidc) m.push_back("oidc");
  return m;
}

json AdminApi::sessionJson(const Caller& c) const {
  json j = {{"authenticated", true},      {"csrf", c.csrf},           {"role", c.role},
            {"subject", c.subject},       {"expires_at", c.expiresAt}, {"methods", loginMethods()}};
  if (d_.oidc) j["oidc_provider"] = d_.oidc->config().displayName;
  return j;
}

asio::awaitable<Caller> AdminApi::authenticate(const http::Request& req) {
  Caller c;
  if (const std::string bearer = bearerToken(req); !bearer.empty()) {
    // A session the CLI keeps (fn0 login --oidc): the same rows as the
    // dashboard's, presented in a header a browser never adds by itself.
    if (bearer.rfind(kSessionBearerPrefix, 0) == 0) {
      if (bearer.size() > 256) co_return c;
      c = co_await sessionCaller(sha256Of(bearer), isSafeMethod(req.method));
      c.bearer = c.via == Caller::Via::Session;
      co_return c;
    }
    const std::string presented = sha256Of(bearer);
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
  co_return co_await sessionCaller(sha256Of(cookie), isSafeMethod(req.method));
}

asio::awaitable<Caller> AdminApi::sessionCaller(std::string idHash, bool safe) {
  Caller c;
  const auto now = std::chrono::steady_clock::now();
  std::optional<registry::Registry::Session> s;
  if (safe) s = sessions_.get(idHash, now);
  if (!s) {
    auto op = [&] { return d_.registry.session(idHash); };
    auto found = co_await db(op);
    if (!found) throw RegistryFailure{found.error()};
    if (!*found) co_return c;
    s = std::move(**found);
    sessions_.put(*s, now);
  }
  if (s->expiresAt <= unixNow()) co_return c;
  if (!s->tokenHash.empty()) {
    // Made with a token: the token's role and scope now (revoked: over).
    auto t = d_.registry.token(s->tokenHash);
    if (!t) co_return c;
    c.token = std::move(*t);
    s->role = c.token.role;
  } else if (!s->person.empty()) {
    // A person signed in through the provider: the rules in force decide,
    // on every request (a rule taken out of the configuration ends the
    // sessions it let in at the node's next start; so does turning OIDC off).
    if (!d_.oidc) co_return c;
    const auto grant = d_.oidc->roles().grant(oidc::Person::fromJson(json::parse(s->person, nullptr, false)));
    if (!grant) co_return c;
    s->role = grant->role;
    c.token.name = s->subject;
    c.token.role = grant->role;
    c.token.functions = grant->functions;  // a deployer's scope (empty: every function)
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

asio::awaitable<Result<AdminApi::OpenedSession>> AdminApi::openSession(registry::Registry::Session s, bool bearer) {
  OpenedSession out;
  out.secret = bearer ? std::string(kSessionBearerPrefix) + randomHex(32) : randomHex(32);
  s.idHash = sha256Of(out.secret);
  // A CLI's session has no CSRF token: it is never a cookie, so nothing
  // can be forged with it, and a cookie that carries it cannot change anything.
  s.csrf = bearer ? "" : randomHex(24);
  s.createdAt = unixNow();
  s.expiresAt = s.createdAt + kSessionLifetime.count();
  auto op = [&] {
    (void)d_.registry.purgeSessions();  // expired ones: the table stays small
    return d_.registry.createSession(s);
  };
  auto r = co_await db(op);
  if (!r) co_return r.error();
  out.caller.via = Caller::Via::Session;
  out.caller.bearer = bearer;
  out.caller.role = s.role;
  out.caller.subject = s.subject;
  out.caller.tokenHash = s.tokenHash;
  out.caller.sessionHash = s.idHash;
  out.caller.csrf = s.csrf;
  out.caller.expiresAt = s.expiresAt;
  co_return out;
}

asio::awaitable<void> AdminApi::sessionRoute(http::Exchange& ex) {
  const http::Request& req = ex.request();
  const std::string& m = req.method;
  const bool secure = viaTls(req);
  if (m == "GET") {
    const Caller c = co_await authenticate(req);
    json body = c.via == Caller::Via::Session ? sessionJson(c)
                                              : json{{"authenticated", false}, {"methods", loginMethods()}};
    if (d_.oidc) body["oidc_provider"] = d_.oidc->config().displayName;
    co_await sendJson(ex, 200, body);
    co_return;
  }
  if (m == "DELETE") {
    const Caller c = co_await authenticate(req);
    if (c.via == Caller::Via::Session) {
      if (!c.bearer && !csrfOk(req, c.csrf))
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
  registry::Registry::Session s;
  s.role = token->role;
  s.subject = token->name;
  s.tokenHash = tokenHash;
  auto opened = co_await openSession(std::move(s), false);
  if (!opened) co_return co_await failed(ex, opened.error());
  Caller c = opened->caller;
  c.token = *token;
  std::vector<http::Header> headers = {{"content-type", "application/json"},
                                       {"set-cookie", sessionCookie(opened->secret, kSessionLifetime, secure)},
                                       {"cache-control", "no-store"}};
  std::string out = sessionJson(c).dump() + "\n";
  co_await http::respond(ex, 200, std::move(headers), std::move(out));
  const std::string action = "login", function;
  const json detail = {{"method", "token"}, {"token", token->id}};
  co_await recordAudit(req, c, action, function, detail, 200);
}

}  // namespace fn0::admin
