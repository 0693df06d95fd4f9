// Signed JSON Web Tokens as an OpenID provider issues them (JWS compact
// form) and the public keys that check them (a JWK set): parsing, and the
// signature check with OpenSSL. RS256, PS256 and ES256 only: what providers
// sign ID tokens with. "none" and the HMAC algorithms are refused (an ID
// token signed with the client secret would let anyone who holds the
// secret mint one; fn0 needs none of them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace fn0::oidc {

// Base64url without padding (RFC 7515 §2); decoding also takes padded input
// and refuses any other character.
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

// A JWS in compact form, split and decoded; nothing checked yet.
struct Jws {
  nlohmann::json header, payload;
  std::string signingInput;  // "<header>.<payload>" as received
  std::string signature;     // raw bytes
};
Result<Jws> parseJws(std::string_view compact);

// One public key of a JWK set.
struct Jwk {
  std::string kid, kty, alg, use;  // alg/use may be "" (unrestricted)
  std::shared_ptr<EVP_PKEY> key;
};

// The signing keys a provider publishes at its jwks_uri. Keys of kinds this
// code cannot use (encryption keys, other curves, short RSA) are skipped,
// not an error: a provider's set often holds some.
class KeySet {
 public:
  static Result<KeySet> parse(const nlohmann::json& jwks);
  // The key for a token's header (its kid; without a kid, the only key
  // that fits the algorithm), nullptr if none.
  const Jwk* find(const std::string& kid, const std::string& alg) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// Error::code of a token whose key id the set does not hold: the provider
// may have rotated its keys, so the caller fetches the set again once.
inline constexpr const char* kUnknownKey = "unknown-key";

// Checks `jws`'s signature with the key its header names.
Result<void> verifySignature(const Jws& jws, const KeySet& keys);

}  // namespace fn0::oidc
