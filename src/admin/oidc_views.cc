// People's logins through the node's OpenID provider (docs/access.md):
//
//   GET  /_fn0/auth/oidc/start        a browser: to the provider (code flow, PKCE)
//   GET  /_fn0/auth/oidc/callback     back from it: a session cookie, then /_fn0/
//   POST /_fn0/auth/oidc/device       the CLI: a user code to enter at the provider
//   POST /_fn0/auth/oidc/device/poll  ... and, once entered, a session credential
//
// The node is the provider's client in both: the code, the tokens and the
// client secret never reach the browser or the CLI. A login in progress is
// a row in the registry, so the callback or the poll may land on any node
// of a cluster. Every outcome is audited (`login` / `login.failed`, method
// oidc, the person's e-mail as actor when known, and the reason).
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/request_util.h"
#include "admin/route_match.h"
#include "common/random.h"
#include "common/sha256.h"
#include "dispatch/respond.h"

namespace fn0::admin {

namespace asio = boost::asio;
using nlohmann::json;
using dispatch::sendError;
using dispatch::sendJson;

namespace {

// How long a login may take between its start and its end (the code
// flow's trip through the provider; the device flow's is the provider's
// expires_in, at most kLoginLifetime too).
constexpr std::chrono::seconds kLoginLifetime{600};

std::string decodedParam(const std::string& query, const std::string& name) {
  std::string raw = queryParam(query, name), out;
  for (auto& c : raw)
    if (c == '+') c = ' ';  // form encoding: providers write spaces so in error_description
  return percentDecode(raw, out) ? out.substr(0, 2048) : "";
}

// Who a failed login names in the audit log: the e-mail when the provider
// said it, else nobody.
Caller personCaller(const oidc::Person* p) {
  Caller c;
  if (p) c.subject = !p->email.empty() ? p->email : "oidc:" + p->subject;
  return c;
}

}  // namespace

asio::awaitable<void> AdminApi::oidcRoute(http::Exchange& ex, const std::string& path, const std::string& query) {
  const std::string& m = ex.request().method;
  if (!d_.oidc)
    co_return co_await sendError(ex, 404, "not-found",
                                 "OIDC login is not configured on this node (fn0 serve --oidc-issuer ...)");
  struct Route {
    const char* path;
    const char* method;
  };
  static constexpr Route kRoutes[] = {{"/_fn0/auth/oidc/start", "GET"},
                                      {"/_fn0/auth/oidc/callback", "GET"},
                                      {"/_fn0/auth/oidc/device", "POST"},
                                      {"/_fn0/auth/oidc/device/poll", "POST"}};
  for (const auto& r : kRoutes) {
    if (path != r.path) continue;
    if (m != r.method) co_return co_await sendError(ex, 405, "method-not-allowed", m + " is not allowed on " + path);
    if (path == kRoutes[0].path) co_return co_await oidcStart(ex);
    if (path == kRoutes[1].path) co_return co_await oidcCallback(ex, query);
    if (path == kRoutes[2].path) co_return co_await oidcDeviceStart(ex);
    co_return co_await oidcDevicePoll(ex);
  }
  co_await sendError(ex, 404, "not-found", "no login endpoint " + path.substr(0, 200));
}

asio::awaitable<void> AdminApi::oidcStart(http::Exchange& ex) {
  const http::Request& req = ex.request();
  const bool secure = viaTls(req);
  // Failures land on the dashboard's login page, which says what the code
  // means (dashboard/src/pages/login.js); only a code travels in the URL,
  // so nobody can make the page show words of their choosing.
  auto toLoginPage = [&](std::string code) -> asio::awaitable<void> {
    std::vector<http::Header> headers = {{"location", "/_fn0/#/login?error=" + code},
                                         {"cache-control", "no-store"},
                                         {"referrer-policy", "no-referrer"}};
    co_await http::respond(ex, 303, std::move(headers), "");
  };
  const std::string client = clientAddress(req);
  const auto now = std::chrono::steady_clock::now();
  if (logins_.retryAfter(client, now) > 0 || oidcStarts_.retryAfter(client, now) > 0)
    co_return co_await toLoginPage("too-many-logins");
  oidcStarts_.failed(client, now);  // counts every start
  const std::string state = randomHex(16), nonce = randomHex(16), binding = randomHex(16);
  const std::string verifier = oidc::pkceVerifier();
  auto url = co_await d_.oidc->authorizationUrl(state, nonce, oidc::pkceChallenge(verifier));
  if (!url) {
    co_await toLoginPage("oidc-unavailable");
    const Caller nobody;
    // Named: g++ 12 cannot take a braced list straight into a co_await.
    const json detail = {{"method", "oidc"}, {"reason", url.error().message.substr(0, 500)}};
    co_await recordAudit(req, nobody, "login.failed", "", detail, 303);
    co_return;
  }
  registry::Registry::OidcLogin login;
  login.idHash = sha256Of(state);
  login.kind = "code";
  login.nonce = nonce;
  login.verifier = verifier;
  login.bindingHash = sha256Of(binding);
  login.createdAt = unixNow();
  login.expiresAt = login.createdAt + kLoginLifetime.count();
  auto op = [&] { return d_.registry.addOidcLogin(login); };
  auto r = co_await db(op);
  if (!r) co_return co_await failed(ex, r.error());
  // The binding cookie ties the login to this browser: a callback URL
  // someone else began (login CSRF: being signed in as them) finds no
  // cookie, or the wrong one, and is refused.
  std::vector<http::Header> headers = {{"location", *url},
                                       {"set-cookie", oidcBindingCookie(binding, kLoginLifetime, secure)},
                                       {"cache-control", "no-store"},
                                       {"referrer-policy", "no-referrer"}};
  co_await http::respond(ex, 302, std::move(headers), "");
}

asio::awaitable<void> AdminApi::oidcCallback(http::Exchange& ex, const std::string& query) {
  const http::Request& req = ex.request();
  const bool secure = viaTls(req);
  const std::string client = clientAddress(req);
  std::optional<oidc::Person> person;
  // Every way out: the binding cookie cleared, no referrer (the URL held
  // the code), and an audit entry.
  auto refuse = [&](std::string code, std::string reason, bool clientsFault) -> asio::awaitable<void> {
    if (clientsFault) logins_.failed(client, std::chrono::steady_clock::now());
    std::vector<http::Header> headers = {{"location", "/_fn0/#/login?error=" + code},
                                         {"set-cookie", oidcBindingCookie("", kLoginLifetime, secure)},
                                         {"cache-control", "no-store"},
                                         {"referrer-policy", "no-referrer"}};
    co_await http::respond(ex, 303, std::move(headers), "");
    const Caller who = personCaller(person ? &*person : nullptr);
    const json detail = {{"method", "oidc"}, {"reason", reason.substr(0, 500)}};
    co_await recordAudit(req, who, "login.failed", "", detail, 303);
  };
  if (logins_.retryAfter(client, std::chrono::steady_clock::now()) > 0)
    co_return co_await refuse("too-many-logins", "too many failed logins from this address", false);
  const std::string state = decodedParam(query, "state");
  std::optional<registry::Registry::OidcLogin> login;
  if (!state.empty() && state.size() <= 256) {
    const std::string idHash = sha256Of(state);
    auto op = [&] { return d_.registry.takeOidcLogin(idHash); };
    auto taken = co_await db(op);
    if (!taken) co_return co_await failed(ex, taken.error());
    login = std::move(*taken);
  }
  if (!login || login->kind != "code")
    co_return co_await refuse("oidc-state", "unknown, used or expired state (a login is finished once, within 10 min)",
                              true);
  const std::string binding = cookieValue(req, kOidcBindingCookie);
  if (binding.empty() || !constantTimeEqual(sha256Of(binding), login->bindingHash))
    co_return co_await refuse("oidc-state", "the login was begun in another browser (no or another binding cookie)",
                              true);
  // RFC 9207: a provider that names itself must be ours (mix-up attacks).
  if (const std::string iss = decodedParam(query, "iss"); !iss.empty() && !d_.oidc->sameIssuer(iss))
    co_return co_await refuse("oidc-failed", "the answer came from another issuer: " + iss, true);
  if (const std::string error = decodedParam(query, "error"); !error.empty()) {
    std::string why = error;
    if (auto d = decodedParam(query, "error_description"); !d.empty()) why += ": " + d;
    const std::string page = error == "access_denied" ? "oidc-denied" : "oidc-failed";  // no ?: in a co_await (g++ 12)
    co_return co_await refuse(page, "the provider said " + why, false);
  }
  const std::string code = decodedParam(query, "code");
  if (code.empty()) co_return co_await refuse("oidc-failed", "the provider sent no code", true);
  auto tokens = co_await d_.oidc->redeemCode(code, login->verifier);
  if (!tokens) co_return co_await refuse("oidc-failed", tokens.error().message, tokens.error().code != oidc::kProviderUnreachable);
  auto who = co_await d_.oidc->identify(std::move(*tokens), login->nonce);
  if (!who) co_return co_await refuse("oidc-failed", who.error().message, who.error().code != oidc::kProviderUnreachable);
  person = std::move(*who);
  const auto grant = d_.oidc->roles().grant(*person);
  if (!grant)
    co_return co_await refuse("oidc-unmapped",
                              "no rule of this node gives a role to " + personCaller(&*person).subject, true);
  logins_.succeeded(client);
  registry::Registry::Session s;
  s.role = grant->role;
  s.subject = personCaller(&*person).subject;
  s.person = person->toJson().dump();
  auto opened = co_await openSession(std::move(s), false);
  if (!opened) co_return co_await failed(ex, opened.error());
  std::vector<http::Header> headers = {{"location", "/_fn0/"},
                                       {"set-cookie", sessionCookie(opened->secret, kSessionLifetime, secure)},
                                       {"set-cookie", oidcBindingCookie("", kLoginLifetime, secure)},
                                       {"cache-control", "no-store"},
                                       {"referrer-policy", "no-referrer"}};
  co_await http::respond(ex, 303, std::move(headers), "");
  const json detail = {{"method", "oidc"}, {"flow", "code"}};
  co_await recordAudit(req, opened->caller, "login", "", detail, 303);
}

asio::awaitable<void> AdminApi::oidcDeviceStart(http::Exchange& ex) {
  const http::Request& req = ex.request();
  const std::string client = clientAddress(req);
  const auto now = std::chrono::steady_clock::now();
  if (const int64_t wait = std::max(logins_.retryAfter(client, now), oidcStarts_.retryAfter(client, now)); wait > 0)
    co_return co_await sendError(ex, 429, "too-many-logins",
                                 "too many logins from this address; try again in " + std::to_string(wait) + " s");
  oidcStarts_.failed(client, now);  // counts every start
  auto started = co_await d_.oidc->startDevice();
  if (!started) {
    const int status = started.error().code == oidc::kProviderUnreachable ? 502 : 501;
    const std::string reason = started.error().code.empty() ? "oidc-failed" : started.error().code;
    co_return co_await sendError(ex, status, reason, started.error().message);
  }
  // The CLI gets a handle of the node's; the device code stays here.
  const std::string handle = randomHex(24);
  registry::Registry::OidcLogin login;
  login.idHash = sha256Of(handle);
  login.kind = "device";
  login.deviceCode = started->deviceCode;
  login.pollInterval = started->interval;
  login.createdAt = unixNow();
  login.expiresAt = login.createdAt + std::min<int64_t>(started->expiresIn, kLoginLifetime.count());
  auto op = [&] { return d_.registry.addOidcLogin(login); };
  auto r = co_await db(op);
  if (!r) co_return co_await failed(ex, r.error());
  const json body = {{"handle", handle},
                     {"user_code", started->userCode},
                     {"verification_uri", started->verificationUri},
                     {"verification_uri_complete", started->verificationUriComplete.empty()
                                                       ? json(nullptr)
                                                       : json(started->verificationUriComplete)},
                     {"expires_in", login.expiresAt - login.createdAt},
                     {"interval", login.pollInterval}};
  co_await sendJson(ex, 200, body);
}

asio::awaitable<void> AdminApi::oidcDevicePoll(http::Exchange& ex) {
  const http::Request& req = ex.request();
  auto body = co_await readAll(ex, 4096);
  json j = body ? json::parse(*body, nullptr, false) : json();
  if (!j.is_object() || !j.contains("handle") || !j["handle"].is_string() || j["handle"].get<std::string>().size() > 256)
    co_return co_await sendError(ex, 400, "bad-request", "body must be {\"handle\": \"...\"} from POST /_fn0/auth/oidc/device");
  const std::string idHash = sha256Of(j["handle"].get<std::string>());
  auto op = [&] { return d_.registry.oidcLogin(idHash); };
  auto found = co_await db(op);
  if (!found) co_return co_await failed(ex, found.error());
  if (!*found || (*found)->kind != "device")
    co_return co_await sendError(ex, 410, "expired", "this device login is unknown, finished or expired: start again");
  const auto login = std::move(**found);
  auto poll = co_await d_.oidc->pollDevice(login.deviceCode);
  if (!poll) co_return co_await sendError(ex, 502, "oidc-unavailable", poll.error().message);
  auto forget = [&]() -> asio::awaitable<bool> {
    auto take = [&] { return d_.registry.takeOidcLogin(idHash); };
    auto t = co_await db(take);
    co_return t && t->has_value();
  };
  std::optional<oidc::Person> person;
  auto refuse = [&](int status, std::string code, std::string message) -> asio::awaitable<void> {
    co_await sendError(ex, status, code, message);
    const Caller who = personCaller(person ? &*person : nullptr);
    const json detail = {{"method", "oidc"}, {"flow", "device"}, {"reason", message.substr(0, 500)}};
    co_await recordAudit(req, who, "login.failed", "", detail, status);
  };
  switch (poll->state) {
    case oidc::DevicePoll::Pending:
    case oidc::DevicePoll::SlowDown: {
      int64_t interval = login.pollInterval;
      if (poll->state == oidc::DevicePoll::SlowDown) {  // RFC 8628 §3.5: 5 s more from now on
        interval = std::min<int64_t>(interval + 5, 60);
        auto slow = [&] { return d_.registry.setOidcPollInterval(idHash, interval); };
        (void)co_await db(slow);
      }
      const json out = {{"status", "pending"}, {"interval", interval}};
      co_return co_await sendJson(ex, 200, out);
    }
    case oidc::DevicePoll::Denied:
      (void)co_await forget();
      co_return co_await refuse(403, "oidc-denied", "the sign-in was refused at the provider (" + poll->message + ")");
    case oidc::DevicePoll::Expired:
      (void)co_await forget();
      co_return co_await sendError(ex, 410, "expired", "the user code expired before it was entered: start again");
    case oidc::DevicePoll::Done:
      break;
  }
  // Only one poll ends a login (two at once: the second finds no row).
  if (!co_await forget())
    co_return co_await sendError(ex, 410, "expired", "this device login is finished already");
  auto who = co_await d_.oidc->identify(std::move(poll->tokens), "");
  if (!who) co_return co_await refuse(502, "oidc-failed", who.error().message);
  person = std::move(*who);
  const auto grant = d_.oidc->roles().grant(*person);
  if (!grant)
    co_return co_await refuse(403, "oidc-unmapped",
                              "no rule of this node gives a role to " + personCaller(&*person).subject);
  registry::Registry::Session s;
  s.role = grant->role;
  s.subject = personCaller(&*person).subject;
  s.person = person->toJson().dump();
  auto opened = co_await openSession(std::move(s), true);
  if (!opened) co_return co_await failed(ex, opened.error());
  const json out = {{"status", "done"},
                    {"token", opened->secret},
                    {"role", opened->caller.role},
                    {"subject", opened->caller.subject},
                    {"expires_at", opened->caller.expiresAt}};
  std::vector<http::Header> headers = {{"content-type", "application/json"}, {"cache-control", "no-store"}};
  co_await http::respond(ex, 200, std::move(headers), out.dump() + "\n");
  const json detail = {{"method", "oidc"}, {"flow", "device"}};
  co_await recordAudit(req, opened->caller, "login", "", detail, 200);
}

}  // namespace fn0::admin
