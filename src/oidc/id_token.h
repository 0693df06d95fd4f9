// The checks an ID token must pass before fn0 believes who it names
// (OpenID Connect Core §3.1.3.7): signed by the provider's key, issued by the
// configured issuer, for this client, still valid, and (for a login this
// node started in a browser) carrying the nonce it sent. Pure: the keys and
// the clock are given.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "oidc/jwt.h"

namespace fn0::oidc {

struct Expected {
  std::string issuer;    // exactly as the provider's discovery document says
  std::string clientId;  // must be in aud (and be azp when aud holds others)
  std::string nonce;     // "": the flow sent none (the device grant), and none may come back
  int64_t now = 0;       // unix seconds
  // Clocks differ: a token up to this many seconds past exp, or issued
  // this far in the future, still counts.
  int64_t leewaySeconds = 60;
};

// The token's claims if every check passes; otherwise why not. An error
// whose code is kUnknownKey names a key the set does not hold.
Result<nlohmann::json> verifyIdToken(const std::string& token, const KeySet& keys, const Expected& want);

// The claim checks alone (no signature), for verifyIdToken and the tests.
Result<void> checkClaims(const nlohmann::json& claims, const Expected& want);

}  // namespace fn0::oidc
