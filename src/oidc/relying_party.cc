#include "oidc/relying_party.h"

#include <algorithm>
#include <openssl/rand.h>

#include <boost/asio.hpp>

#include "common/sha256.h"
#include "oidc/id_token.h"

namespace fn0::oidc {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Basic auth of a confidential client (RFC 6749 §2.3.1: id and secret are
// form-encoded before base64).
std::string basicAuth(const std::string& id, const std::string& secret) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = formEncode(id) + ":" + formEncode(secret);
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t j = 0; j < 3; j++) v = v << 8 | (j < n ? static_cast<unsigned char>(in[i + j]) : 0);
    for (size_t j = 0; j < 4; j++) out += j <= n ? kAlphabet[(v >> (18 - 6 * j)) & 63] : '=';
  }
  return "Basic " + out;
}

// The provider's error as a sentence: "access_denied: End-User aborted".
std::string oauthError(const json& j) {
  std::string s = j.value("error", "unknown_error");
  if (j.contains("error_description") && j["error_description"].is_string())
    s += ": " + j["error_description"].get<std::string>();
  return s.substr(0, 300);
}

Result<Url> endpoint(const json& doc, const char* name, bool required) {
  if (!doc.contains(name) || !doc[name].is_string()) {
    if (required) return Error{"the provider's discovery document has no " + std::string(name)};
    return Error{"", "absent"};
  }
  auto u = Url::parse(doc[name].get<std::string>());
  if (!u) return Error{std::string(name) + ": " + u.error().message};
  if (auto ok = allowedUrl(*u); !ok) return Error{std::string(name) + ": " + ok.error().message};
  return u;
}

}  // namespace

std::string pkceVerifier() {
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("no random bytes");
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

std::string pkceChallenge(const std::string& verifier) {
  const std::string hex = sha256Hex({reinterpret_cast<const uint8_t*>(verifier.data()), verifier.size()});
  std::string raw;
  for (size_t i = 0; i < hex.size(); i += 2) raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return base64UrlEncode(raw);
}

Result<std::unique_ptr<RelyingParty>> RelyingParty::create(Config c, RoleMap roles) {
  auto issuer = Url::parse(c.issuer);
  if (!issuer) return Error{"--oidc-issuer: " + issuer.error().message};
  if (auto ok = allowedUrl(*issuer); !ok) return Error{"--oidc-issuer: " + ok.error().message};
  if (c.clientId.empty()) return Error{"--oidc-client-id is required with --oidc-issuer"};
  if (roles.empty())
    return Error{"OIDC login needs at least one of --oidc-admin, --oidc-deployer, --oidc-viewer (who gets which role)"};
  auto redirect = Url::parse(c.redirectUri);
  if (!redirect) return Error{"--public-url: " + redirect.error().message};
  if (c.scopes.find("openid") == std::string::npos) c.scopes = "openid " + c.scopes;
  auto fetcher = Fetcher::create(c.caFile);
  if (!fetcher) return fetcher.error();
  // OpenID Connect Discovery §4: the issuer with the well-known path appended.
  std::string discovery = c.issuer;
  while (!discovery.empty() && discovery.back() == '/') discovery.pop_back();
  discovery += "/.well-known/openid-configuration";
  return std::unique_ptr<RelyingParty>(new RelyingParty(std::move(c), std::move(roles), std::move(*fetcher), discovery));
}

bool RelyingParty::sameIssuer(const std::string& iss) const { return iss == config_.issuer; }

asio::awaitable<Result<json>> RelyingParty::getJson(const Url& url, std::string bearer) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!bearer.empty()) headers.emplace_back("authorization", "Bearer " + bearer);
  auto r = co_await fetcher_->fetch("GET", url, std::move(headers), "");
  if (!r) co_return Error{r.error().message, kProviderUnreachable};
  if (r->status != 200)
    co_return Error{url.str().substr(0, 200) + " answered HTTP " + std::to_string(r->status), kProviderUnreachable};
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) co_return Error{url.str().substr(0, 200) + " did not answer a JSON object", kProviderUnreachable};
  co_return j;
}

asio::awaitable<Result<std::shared_ptr<const Endpoints>>> RelyingParty::endpoints() {
  {
    std::lock_guard lock(mu_);
    if (endpoints_ && std::chrono::steady_clock::now() - endpointsAt_ < kDiscoveryTtl) co_return endpoints_;
  }
  auto url = Url::parse(discoveryUrl_);
  if (!url) co_return url.error();
  auto doc = co_await getJson(*url);
  if (!doc) co_return Error{"discovery: " + doc.error().message, kProviderUnreachable};
  auto e = std::make_shared<Endpoints>();
  e->issuer = doc->value("issuer", "");
  // Discovery §4.3: the document's issuer is the one configured, exactly;
  // otherwise tokens it signs would not be checked against the right name.
  if (e->issuer != config_.issuer)
    co_return Error{"the provider calls itself '" + e->issuer.substr(0, 200) + "', not '" + config_.issuer +
                        "' (--oidc-issuer must be its issuer exactly)",
                    kProviderUnreachable};
  auto authorization = endpoint(*doc, "authorization_endpoint", true);
  auto token = endpoint(*doc, "token_endpoint", true);
  auto jwks = endpoint(*doc, "jwks_uri", true);
  for (auto* r : {&authorization, &token, &jwks})
    if (!*r) co_return Error{r->error().message, kProviderUnreachable};
  e->authorization = *authorization;
  e->token = *token;
  e->jwks = *jwks;
  if (auto u = endpoint(*doc, "userinfo_endpoint", false)) e->userinfo = *u;
  if (auto u = endpoint(*doc, "device_authorization_endpoint", false)) e->deviceAuthorization = *u;
  std::shared_ptr<const Endpoints> out = std::move(e);
  std::lock_guard lock(mu_);
  endpoints_ = out;
  endpointsAt_ = std::chrono::steady_clock::now();
  co_return out;
}

asio::awaitable<Result<std::shared_ptr<const KeySet>>> RelyingParty::keys(bool refetch) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    // A token naming an unknown key may be forged: fetch again for one at
    // most every kKeysRefetchGap, so such tokens cannot make this node
    // hammer the provider. (The gap counts from the last such refetch, not
    // from the first fetch: a rotation just after it is still seen.)
    if (keys_ && (!refetch || (refetchedAt_ && now - *refetchedAt_ < kKeysRefetchGap))) co_return keys_;
    if (refetch) refetchedAt_ = now;
  }
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  auto doc = co_await getJson((*e)->jwks);
  if (!doc) co_return Error{"keys: " + doc.error().message, kProviderUnreachable};
  auto set = KeySet::parse(*doc);
  if (!set) co_return Error{"keys: " + set.error().message, kProviderUnreachable};
  std::shared_ptr<const KeySet> out = std::make_shared<KeySet>(std::move(*set));
  std::lock_guard lock(mu_);
  keys_ = out;
  co_return out;
}

asio::awaitable<Result<std::string>> RelyingParty::authorizationUrl(std::string state, std::string nonce,
                                                                    std::string codeChallenge) {
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  Url u = (*e)->authorization;
  u.target += u.target.find('?') == std::string::npos ? "?" : "&";
  u.target += formBody({{"response_type", "code"},
                        {"client_id", config_.clientId},
                        {"redirect_uri", config_.redirectUri},
                        {"scope", config_.scopes},
                        {"state", state},
                        {"nonce", nonce},
                        {"code_challenge", codeChallenge},
                        {"code_challenge_method", "S256"}});
  co_return u.str();
}

asio::awaitable<Result<FetchReply>> RelyingParty::tokenRequest(const Endpoints& e,
                                                               std::vector<std::pair<std::string, std::string>> form) {
  std::vector<std::pair<std::string, std::string>> headers;
  // A confidential client authenticates with HTTP Basic (client_secret_basic,
  // the method every provider must support); a public one names itself.
  if (!config_.clientSecret.empty())
    headers.emplace_back("authorization", basicAuth(config_.clientId, config_.clientSecret));
  else
    form.emplace_back("client_id", config_.clientId);
  auto r = co_await fetcher_->fetch("POST", e.token, std::move(headers), formBody(form));
  if (!r) co_return Error{"token endpoint: " + r.error().message, kProviderUnreachable};
  co_return r;
}

asio::awaitable<Result<Tokens>> RelyingParty::redeemCode(std::string code, std::string codeVerifier) {
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  // A named vector: g++ 12 cannot take a braced list straight into a co_await.
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "authorization_code"},
                                                           {"code", code},
                                                           {"redirect_uri", config_.redirectUri},
                                                           {"code_verifier", codeVerifier}};
  auto r = co_await tokenRequest(**e, std::move(form));
  if (!r) co_return r.error();
  json j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object())
    co_return Error{"the provider refused the code: " + (j.is_object() ? oauthError(j) : "HTTP " + std::to_string(r->status))};
  Tokens t;
  t.idToken = j.value("id_token", "");
  t.accessToken = j.value("access_token", "");
  if (t.idToken.empty()) co_return Error{"the provider answered without an ID token (is 'openid' in the scopes?)"};
  co_return t;
}

asio::awaitable<Result<DeviceStart>> RelyingParty::startDevice() {
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  if (!(*e)->deviceAuthorization)
    co_return Error{"the provider offers no device authorization (no device_authorization_endpoint)", "oidc-no-device"};
  std::vector<std::pair<std::string, std::string>> form = {{"scope", config_.scopes}};
  std::vector<std::pair<std::string, std::string>> headers;
  if (!config_.clientSecret.empty())
    headers.emplace_back("authorization", basicAuth(config_.clientId, config_.clientSecret));
  else
    form.emplace_back("client_id", config_.clientId);
  auto r = co_await fetcher_->fetch("POST", *(*e)->deviceAuthorization, std::move(headers), formBody(form));
  if (!r) co_return Error{"device authorization: " + r.error().message, kProviderUnreachable};
  json j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object())
    co_return Error{"the provider refused the device authorization: " +
                    (j.is_object() ? oauthError(j) : "HTTP " + std::to_string(r->status))};
  DeviceStart d;
  d.deviceCode = j.value("device_code", "");
  d.userCode = j.value("user_code", "");
  d.verificationUri = j.value("verification_uri", "");
  d.verificationUriComplete = j.value("verification_uri_complete", "");
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) d.expiresIn = j["expires_in"].get<int64_t>();
  if (j.contains("interval") && j["interval"].is_number_integer()) d.interval = j["interval"].get<int64_t>();
  d.expiresIn = std::clamp<int64_t>(d.expiresIn, 1, 1800);
  d.interval = std::clamp<int64_t>(d.interval, 1, 60);
  if (d.deviceCode.empty() || d.userCode.empty() || d.verificationUri.empty())
    co_return Error{"the provider's device authorization lacks device_code, user_code or verification_uri"};
  co_return d;
}

asio::awaitable<Result<DevicePoll>> RelyingParty::pollDevice(std::string deviceCode) {
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, {"device_code", deviceCode}};
  auto r = co_await tokenRequest(**e, std::move(form));
  if (!r) co_return r.error();
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) co_return Error{"the token endpoint answered HTTP " + std::to_string(r->status) + " without JSON"};
  DevicePoll p;
  if (r->status == 200) {
    p.state = DevicePoll::Done;
    p.tokens.idToken = j.value("id_token", "");
    p.tokens.accessToken = j.value("access_token", "");
    if (p.tokens.idToken.empty()) co_return Error{"the provider answered without an ID token (is 'openid' in the scopes?)"};
    co_return p;
  }
  // RFC 8628 §3.5.
  const std::string err = j.value("error", "");
  if (err == "authorization_pending") p.state = DevicePoll::Pending;
  else if (err == "slow_down") p.state = DevicePoll::SlowDown;
  else if (err == "access_denied") p.state = DevicePoll::Denied;
  else if (err == "expired_token") p.state = DevicePoll::Expired;
  else co_return Error{"the provider refused the device code: " + oauthError(j)};
  p.message = oauthError(j);
  co_return p;
}

Person RelyingParty::personOf(const json& c) const {
  Person p;
  p.subject = c.value("sub", "");
  if (c.contains("email") && c["email"].is_string()) p.email = c["email"].get<std::string>();
  if (c.contains("email_verified")) {
    // Some providers send the string "true".
    const auto& v = c["email_verified"];
    if (v.is_boolean()) p.emailVerified = v.get<bool>();
    else if (v.is_string()) p.emailVerified = v.get<std::string>() == "true";
  }
  if (c.contains(config_.groupsClaim)) {
    const auto& g = c[config_.groupsClaim];
    if (g.is_array()) {
      for (const auto& x : g)
        if (x.is_string() && p.groups.size() < 1000) p.groups.push_back(x.get<std::string>());
    } else if (g.is_string()) {
      p.groups.push_back(g.get<std::string>());
    }
  }
  return p;
}

asio::awaitable<Result<Person>> RelyingParty::identify(Tokens tokens, std::string nonce) {
  auto e = co_await endpoints();
  if (!e) co_return e.error();
  auto set = co_await keys(false);
  if (!set) co_return set.error();
  Expected want{(*e)->issuer, config_.clientId, nonce, unixNow(), config_.leewaySeconds};
  auto claims = verifyIdToken(tokens.idToken, **set, want);
  if (!claims && claims.error().code == kUnknownKey) {
    // Maybe rotated: the keys once more.
    set = co_await keys(true);
    if (!set) co_return set.error();
    claims = verifyIdToken(tokens.idToken, **set, want);
  }
  if (!claims) co_return Error{"ID token refused: " + claims.error().message, "oidc-token"};
  json c = std::move(*claims);
  // Many providers keep e-mail and groups out of the ID token of the code
  // flow (Core §5.4): userinfo has them, for the same subject only (§5.3.2).
  const bool lacks = !c.contains("email") || !c.contains(config_.groupsClaim);
  if (lacks && (*e)->userinfo && !tokens.accessToken.empty()) {
    auto info = co_await getJson(*(*e)->userinfo, tokens.accessToken);
    if (!info) co_return Error{"userinfo: " + info.error().message, kProviderUnreachable};
    if (info->value("sub", "") != c.value("sub", ""))
      co_return Error{"userinfo names another subject than the ID token", "oidc-token"};
    for (const char* k : {"email", "email_verified"})
      if (!c.contains(k) && info->contains(k)) c[k] = (*info)[k];
    if (!c.contains(config_.groupsClaim) && info->contains(config_.groupsClaim))
      c[config_.groupsClaim] = (*info)[config_.groupsClaim];
  }
  co_return personOf(c);
}

}  // namespace fn0::oidc
