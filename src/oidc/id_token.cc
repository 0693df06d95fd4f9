#include "oidc/id_token.h"

#include "common/sha256.h"

namespace fn0::oidc {

using nlohmann::json;

namespace {

std::optional<int64_t> seconds(const json& claims, const char* name) {
  if (!claims.contains(name) || !claims[name].is_number()) return std::nullopt;
  return static_cast<int64_t>(claims[name].get<double>());
}

}  // namespace

Result<void> checkClaims(const json& c, const Expected& want) {
  if (c.value("iss", "") != want.issuer)
    return Error{"the token was issued by '" + c.value("iss", "").substr(0, 200) + "', not '" + want.issuer + "'"};
  if (!c.contains("sub") || !c["sub"].is_string() || c["sub"].get<std::string>().empty())
    return Error{"the token names no subject (sub)"};
  // aud: one string or a list; a list with other audiences needs azp = us.
  const json& aud = c.contains("aud") ? c["aud"] : json();
  bool forUs = false, others = false;
  if (aud.is_string()) {
    forUs = aud.get<std::string>() == want.clientId;
  } else if (aud.is_array()) {
    for (const auto& a : aud) {
      if (a.is_string() && a.get<std::string>() == want.clientId) forUs = true;
      else others = true;
    }
  }
  if (!forUs) return Error{"the token is for another client (aud is not '" + want.clientId + "')"};
  if ((others || c.contains("azp")) && c.value("azp", "") != want.clientId)
    return Error{"the token was given to another party (azp is not '" + want.clientId + "')"};
  const auto exp = seconds(c, "exp"), iat = seconds(c, "iat");
  if (!exp || !iat) return Error{"the token has no exp or iat"};
  if (*exp + want.leewaySeconds <= want.now) return Error{"the token has expired"};
  if (*iat - want.leewaySeconds > want.now) return Error{"the token was issued in the future (check the clocks)"};
  if (auto nbf = seconds(c, "nbf"); nbf && *nbf - want.leewaySeconds > want.now)
    return Error{"the token is not valid yet (nbf)"};
  const bool hasNonce = c.contains("nonce");
  if (want.nonce.empty()) {
    if (hasNonce) return Error{"the token carries a nonce this login did not send"};
  } else {
    const std::string got = hasNonce && c["nonce"].is_string() ? c["nonce"].get<std::string>() : "";
    if (!constantTimeEqual(got, want.nonce)) return Error{"the token's nonce is not this login's"};
  }
  return {};
}

Result<json> verifyIdToken(const std::string& token, const KeySet& keys, const Expected& want) {
  auto jws = parseJws(token);
  if (!jws) return jws.error();
  if (auto sig = verifySignature(*jws, keys); !sig) return sig.error();
  if (auto ok = checkClaims(jws->payload, want); !ok) return ok.error();
  return std::move(jws->payload);
}

}  // namespace fn0::oidc
