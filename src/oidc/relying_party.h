// fn0 as an OpenID Connect client (a "relying party") of one provider:
// reads the provider's discovery document and keys (cached; the keys are
// fetched again when a token names one the cache lacks, at most every
// kKeysRefetchGap), builds the authorization request of the code flow with
// PKCE, redeems the code, runs the device authorization grant for the CLI,
// verifies the ID token and tells who it names (reading userinfo when the
// token lacks the e-mail or the groups), and which role they get.
// Thread-safe: one per node, used from every I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "oidc/fetch.h"
#include "oidc/jwt.h"
#include "oidc/role_map.h"

namespace fn0::oidc {

struct Config {
  std::string issuer;
  std::string clientId;
  std::string clientSecret;  // "": a public client (PKCE alone)
  std::string redirectUri;   // <public-url>/_fn0/auth/oidc/callback
  std::string scopes = "openid email profile";
  std::string groupsClaim = "groups";
  std::string caFile;  // "": the system's certificate store
  std::string displayName = "SSO";  // the dashboard's "Sign in with <displayName>"
  int64_t leewaySeconds = 60;
};

// The provider's endpoints (its discovery document).
struct Endpoints {
  std::string issuer;
  Url authorization, token, jwks;
  std::optional<Url> userinfo, deviceAuthorization;
};

struct Tokens {
  std::string idToken, accessToken;
};

// The device authorization grant, started (RFC 8628 §3.2).
struct DeviceStart {
  std::string deviceCode, userCode, verificationUri, verificationUriComplete;
  int64_t expiresIn = 600, interval = 5;
};

// One poll of the token endpoint for a device code.
struct DevicePoll {
  enum State { Pending, SlowDown, Denied, Expired, Done } state = Pending;
  Tokens tokens;        // Done
  std::string message;  // Denied, Expired: the provider's words
};

// Error codes the callers tell apart.
inline constexpr const char* kProviderUnreachable = "oidc-unavailable";  // discovery, keys or token endpoint failed

class RelyingParty {
 public:
  static constexpr std::chrono::seconds kDiscoveryTtl{3600};
  static constexpr std::chrono::seconds kKeysRefetchGap{10};

  // Checks the configuration (URLs, TLS); contacts nobody yet, so a node
  // starts while its provider is down.
  static Result<std::unique_ptr<RelyingParty>> create(Config config, RoleMap roles);

  const Config& config() const { return config_; }
  const RoleMap& roles() const { return roles_; }

  // The URL to send the browser to.
  boost::asio::awaitable<Result<std::string>> authorizationUrl(std::string state, std::string nonce,
                                                               std::string codeChallenge);
  boost::asio::awaitable<Result<Tokens>> redeemCode(std::string code, std::string codeVerifier);
  boost::asio::awaitable<Result<DeviceStart>> startDevice();
  boost::asio::awaitable<Result<DevicePoll>> pollDevice(std::string deviceCode);
  // Verifies the ID token (`nonce` "" for the device grant) and reads who it
  // names, from its claims and, for what they lack, userinfo.
  boost::asio::awaitable<Result<Person>> identify(Tokens tokens, std::string nonce);
  // Whether the issuer the provider named in its callback (RFC 9207 `iss`)
  // is this one: a login answered by another provider is refused.
  bool sameIssuer(const std::string& iss) const;

 private:
  RelyingParty(Config c, RoleMap r, std::unique_ptr<Fetcher> f, std::string issuerTarget)
      : config_(std::move(c)), roles_(std::move(r)), fetcher_(std::move(f)), discoveryUrl_(std::move(issuerTarget)) {}
  boost::asio::awaitable<Result<std::shared_ptr<const Endpoints>>> endpoints();
  boost::asio::awaitable<Result<std::shared_ptr<const KeySet>>> keys(bool refetch);
  boost::asio::awaitable<Result<nlohmann::json>> getJson(const Url& url, std::string bearer = {});
  // A POST to the token endpoint with the client's credentials.
  boost::asio::awaitable<Result<FetchReply>> tokenRequest(const Endpoints& e,
                                                          std::vector<std::pair<std::string, std::string>> form);
  Person personOf(const nlohmann::json& claims) const;

  const Config config_;
  const RoleMap roles_;
  std::unique_ptr<Fetcher> fetcher_;
  const std::string discoveryUrl_;
  std::mutex mu_;
  std::shared_ptr<const Endpoints> endpoints_;
  std::chrono::steady_clock::time_point endpointsAt_;
  std::shared_ptr<const KeySet> keys_;
  std::optional<std::chrono::steady_clock::time_point> refetchedAt_;  // the last fetch for an unknown key
};

// PKCE (RFC 7636): a verifier of 43 characters from 32 random bytes, and
// its S256 challenge.
std::string pkceVerifier();
std::string pkceChallenge(const std::string& verifier);

}  // namespace fn0::oidc
