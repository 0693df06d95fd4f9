#include "oidc/jwt.h"

#include <algorithm>
#include <cstdint>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

namespace fn0::oidc {

using nlohmann::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Shorter RSA keys are not accepted (NIST and RFC 7518 §3.3 ask for 2048).
constexpr int kMinRsaBits = 2048;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::optional<std::string> member(const json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) return std::nullopt;
  return base64UrlDecode(j[name].get<std::string>());
}

std::shared_ptr<EVP_PKEY> rsaKey(const json& j) {
  auto n = member(j, "n"), e = member(j, "e");
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  BnPtr be(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || BN_num_bits(bn.get()) < kMinRsaBits) return nullptr;
  if (!OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()))
    return nullptr;
  return fromParams("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> p256Key(const json& j) {
  if (j.value("crv", "") != "P-256") return nullptr;
  auto x = member(j, "x"), y = member(j, "y");
  if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    return nullptr;
  // EVP_PKEY_fromdata checks the point is on the curve.
  return fromParams("EC", bld.get());
}

// Which key type and digest an algorithm needs.
struct Alg {
  const char* kty;
  bool pss;
};
std::optional<Alg> algorithm(const std::string& alg) {
  if (alg == "RS256") return Alg{"RSA", false};
  if (alg == "PS256") return Alg{"RSA", true};
  if (alg == "ES256") return Alg{"EC", false};
  return std::nullopt;
}

// JWS ECDSA signatures are R || S (32 bytes each for P-256); OpenSSL wants DER.
std::optional<std::string> ecdsaDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + 32), 32, nullptr);
  if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t j = 0; j < 3; j++) v = v << 8 | (j < n ? static_cast<unsigned char>(in[i + j]) : 0);
    for (size_t j = 0; j <= n; j++) out += kAlphabet[(v >> (18 - 6 * j)) & 63];
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

Result<Jws> parseJws(std::string_view compact) {
  if (compact.size() > 64 * 1024) return Error{"the token is larger than 64 KiB"};
  const auto a = compact.find('.');
  const auto b = a == std::string_view::npos ? a : compact.find('.', a + 1);
  if (b == std::string_view::npos || compact.find('.', b + 1) != std::string_view::npos)
    return Error{"not a signed JWT (three parts separated by dots)"};
  auto header = base64UrlDecode(compact.substr(0, a));
  auto payload = base64UrlDecode(compact.substr(a + 1, b - a - 1));
  auto signature = base64UrlDecode(compact.substr(b + 1));
  if (!header || !payload || !signature) return Error{"a part of the token is not base64url"};
  Jws j;
  j.header = json::parse(*header, nullptr, false);
  j.payload = json::parse(*payload, nullptr, false);
  if (!j.header.is_object() || !j.payload.is_object()) return Error{"the token's header or payload is not a JSON object"};
  j.signingInput = std::string(compact.substr(0, b));
  j.signature = std::move(*signature);
  return j;
}

Result<KeySet> KeySet::parse(const json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array())
    return Error{"the JWK set has no \"keys\" array"};
  KeySet set;
  for (const auto& k : jwks["keys"]) {
    if (!k.is_object() || !k.contains("kty") || !k["kty"].is_string()) continue;
    Jwk key;
    key.kty = k["kty"].get<std::string>();
    key.kid = k.value("kid", "");
    key.alg = k.value("alg", "");
    key.use = k.value("use", "");
    if (!key.use.empty() && key.use != "sig") continue;  // an encryption key
    if (key.kty == "RSA") key.key = rsaKey(k);
    else if (key.kty == "EC") key.key = p256Key(k);
    if (key.key) set.keys_.push_back(std::move(key));
  }
  return set;
}

const Jwk* KeySet::find(const std::string& kid, const std::string& alg) const {
  auto a = algorithm(alg);
  if (!a) return nullptr;
  const Jwk* only = nullptr;
  int fitting = 0;
  for (const auto& k : keys_) {
    if (k.kty != a->kty || (!k.alg.empty() && k.alg != alg)) continue;
    if (!kid.empty() && k.kid == kid) return &k;
    fitting++;
    only = &k;
  }
  return kid.empty() && fitting == 1 ? only : nullptr;
}

Result<void> verifySignature(const Jws& jws, const KeySet& keys) {
  const std::string alg = jws.header.value("alg", "");
  const auto a = algorithm(alg);
  if (!a) return Error{"the token is signed with '" + alg.substr(0, 20) + "', not RS256, PS256 or ES256"};
  const std::string kid = jws.header.contains("kid") && jws.header["kid"].is_string() ? jws.header["kid"].get<std::string>() : "";
  const Jwk* key = keys.find(kid, alg);
  if (!key) return Error{"the provider's keys hold none for this token (kid '" + kid.substr(0, 64) + "', " + alg + ")", kUnknownKey};
  std::string sig = jws.signature;
  if (std::string(a->kty) == "EC") {
    auto der = ecdsaDer(sig);
    if (!der) return Error{"the token's signature is not an ES256 signature"};
    sig = std::move(*der);
  }
  MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  if (!md || EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key->key.get()) <= 0)
    return Error{"cannot check the token's signature (OpenSSL)"};
  if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
    return Error{"cannot check the token's signature (OpenSSL)"};
  const int ok = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                  reinterpret_cast<const unsigned char*>(jws.signingInput.data()), jws.signingInput.size());
  if (ok != 1) return Error{"the token's signature is not valid"};
  return {};
}

}  // namespace fn0::oidc
