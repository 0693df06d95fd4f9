// ID tokens signed here with keys made in the test (RSA, P-256), checked the
// way a login checks them; the role mapping; URLs; PKCE.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>

#include "oidc/fetch.h"
#include "oidc/id_token.h"
#include "oidc/jwt.h"
#include "oidc/relying_party.h"
#include "oidc/role_map.h"

namespace fn0::oidc {
namespace {

using nlohmann::json;

constexpr const char* kIssuer = "https://id.example.com";
constexpr const char* kClient = "fn0";

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string bnBytes(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(k, name, &bn), 1);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// A private key made for the test and its public JWK.
struct TestKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string alg, kid;
  json jwk() const {
    if (alg == "ES256") {
      unsigned char point[65];
      size_t len = 0;
      EXPECT_EQ(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len), 1);
      EXPECT_EQ(len, 65u);
      return {{"kty", "EC"}, {"crv", "P-256"}, {"kid", kid}, {"use", "sig"},
              {"x", base64UrlEncode(std::string_view(reinterpret_cast<char*>(point + 1), 32))},
              {"y", base64UrlEncode(std::string_view(reinterpret_cast<char*>(point + 33), 32))}};
    }
    return {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"},
            {"n", base64UrlEncode(bnBytes(key.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64UrlEncode(bnBytes(key.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }
};

TestKey rsaKey(const std::string& kid, const std::string& alg = "RS256", unsigned bits = 2048) {
  return {std::shared_ptr<EVP_PKEY>(EVP_RSA_gen(bits), EVP_PKEY_free), alg, kid};
}

TestKey ecKey(const std::string& kid) {
  return {std::shared_ptr<EVP_PKEY>(EVP_EC_gen("P-256"), EVP_PKEY_free), "ES256", kid};
}

std::string sign(const TestKey& k, const json& header, const json& payload) {
  const std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(payload.dump());
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(md, &pctx, EVP_sha256(), nullptr, k.key.get()), 1);
  if (k.alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(md);
  if (k.alg == "ES256") {  // DER -> R || S
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data() + 32), 32);
    ECDSA_SIG_free(es);
    sig = raw;
  }
  return input + "." + base64UrlEncode(sig);
}

json claims(const std::string& nonce = "n-123") {
  const int64_t t = now();
  json c = {{"iss", kIssuer}, {"sub", "user-1"}, {"aud", kClient}, {"iat", t}, {"exp", t + 300}, {"email", "a@example.com"}};
  if (!nonce.empty()) c["nonce"] = nonce;
  return c;
}

Expected expected(const std::string& nonce = "n-123") { return {kIssuer, kClient, nonce, now(), 60}; }

KeySet keysOf(std::initializer_list<const TestKey*> ks) {
  json set = {{"keys", json::array()}};
  for (const auto* k : ks) set["keys"].push_back(k->jwk());
  auto parsed = KeySet::parse(set);
  EXPECT_TRUE(parsed.ok());
  return *parsed;
}

std::string token(const TestKey& k, const json& payload) {
  return sign(k, {{"alg", k.alg}, {"kid", k.kid}, {"typ", "JWT"}}, payload);
}

class IdTokenTest : public ::testing::Test {
 protected:
  TestKey rsa = rsaKey("r1"), ec = ecKey("e1");
  KeySet keys = keysOf({&rsa, &ec});
};

TEST_F(IdTokenTest, AcceptsRs256Es256AndPs256) {
  auto r = verifyIdToken(token(rsa, claims()), keys, expected());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["email"], "a@example.com");
  auto e = verifyIdToken(token(ec, claims()), keys, expected());
  ASSERT_TRUE(e.ok()) << e.error().message;
  TestKey pss = rsaKey("p1", "PS256");
  auto p = verifyIdToken(token(pss, claims()), keysOf({&pss}), expected());
  ASSERT_TRUE(p.ok()) << p.error().message;
}

TEST_F(IdTokenTest, RefusesATamperedPayloadOrSignature) {
  const std::string good = token(rsa, claims());
  // Another payload under the same signature: an admin's e-mail.
  json forged = claims();
  forged["email"] = "admin@example.com";
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  const std::string swapped = good.substr(0, dot1 + 1) + base64UrlEncode(forged.dump()) + good.substr(dot2);
  auto r = verifyIdToken(swapped, keys, expected());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("signature is not valid"), std::string::npos) << r.error().message;
  std::string flipped = good;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyIdToken(flipped, keys, expected()).ok());
  // The same claims signed by a key the provider does not hold, same kid.
  TestKey impostor = rsaKey("r1");
  EXPECT_FALSE(verifyIdToken(token(impostor, claims()), keys, expected()).ok());
  // ES256 with a flipped byte.
  std::string ecTok = token(ec, claims());
  ecTok[ecTok.size() - 3] = ecTok[ecTok.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyIdToken(ecTok, keys, expected()).ok());
}

TEST_F(IdTokenTest, RefusesUnsignedAndHmacTokens) {
  const std::string payload = base64UrlEncode(claims().dump());
  const std::string none = base64UrlEncode(json{{"alg", "none"}}.dump()) + "." + payload + ".";
  auto r = verifyIdToken(none, keys, expected());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'none'"), std::string::npos) << r.error().message;
  const std::string hs = base64UrlEncode(json{{"alg", "HS256"}, {"kid", "r1"}}.dump()) + "." + payload + ".c2ln";
  EXPECT_FALSE(verifyIdToken(hs, keys, expected()).ok());
  // An RSA key's kid with ES256 in the header: no such key.
  const std::string mixed = sign(rsa, {{"alg", "ES256"}, {"kid", "r1"}}, claims());
  EXPECT_FALSE(verifyIdToken(mixed, keys, expected()).ok());
}

TEST_F(IdTokenTest, AnUnknownKeyIdSaysSo) {
  TestKey rotated = rsaKey("r2");
  auto r = verifyIdToken(token(rotated, claims()), keys, expected());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kUnknownKey);
  EXPECT_TRUE(verifyIdToken(token(rotated, claims()), keysOf({&rsa, &rotated}), expected()).ok());
}

TEST_F(IdTokenTest, RefusesExpiredFutureAndNotYetValidTokens) {
  json c = claims();
  c["exp"] = now() - 120;
  auto r = verifyIdToken(token(rsa, c), keys, expected());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expired"), std::string::npos);
  c["exp"] = now() - 30;  // within the leeway
  EXPECT_TRUE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c = claims();
  c["iat"] = now() + 600;
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c = claims();
  c["nbf"] = now() + 600;
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c = claims();
  c.erase("exp");
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
}

TEST_F(IdTokenTest, RefusesAnotherAudienceOrIssuer) {
  json c = claims();
  c["aud"] = "another-client";
  auto r = verifyIdToken(token(rsa, c), keys, expected());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("another client"), std::string::npos);
  c["aud"] = json::array({"another-client", kClient});  // shared: only with azp = us
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c["azp"] = kClient;
  EXPECT_TRUE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c["azp"] = "another-client";
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c = claims();
  c["iss"] = "https://id.example.com.evil.org";
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
  c = claims();
  c.erase("sub");
  EXPECT_FALSE(verifyIdToken(token(rsa, c), keys, expected()).ok());
}

TEST_F(IdTokenTest, TheNonceMustBeThisLogins) {
  EXPECT_FALSE(verifyIdToken(token(rsa, claims("other")), keys, expected()).ok());
  EXPECT_FALSE(verifyIdToken(token(rsa, claims("")), keys, expected()).ok());
  // The device grant sends none: a token with one was made for another flow.
  EXPECT_TRUE(verifyIdToken(token(rsa, claims("")), keys, expected("")).ok());
  EXPECT_FALSE(verifyIdToken(token(rsa, claims()), keys, expected("")).ok());
}

TEST(KeySetTest, SkipsKeysItCannotUse) {
  TestKey small = rsaKey("small", "RS256", 1024), good = rsaKey("good");
  json set = {{"keys", json::array({small.jwk(), good.jwk(), json{{"kty", "oct"}, {"k", "c2VjcmV0"}},
                                    json{{"kty", "RSA"}, {"use", "enc"}, {"kid", "x"}}})}};
  auto parsed = KeySet::parse(set);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), 1u);
  EXPECT_FALSE(verifyIdToken(token(small, claims()), *parsed, expected()).ok());
  EXPECT_FALSE(KeySet::parse(json{{"nokeys", 1}}).ok());
  // Without a kid: the only key that fits.
  auto alone = KeySet::parse(json{{"keys", json::array({good.jwk()})}});
  EXPECT_TRUE(verifyIdToken(sign(good, {{"alg", "RS256"}}, claims()), *alone, expected()).ok());
}

TEST(Base64UrlTest, RoundTripsAndRefusesOtherCharacters) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "\xff\xfe\x00\x01"}) {
    auto back = base64UrlDecode(base64UrlEncode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64UrlDecode("ab+/").has_value());
  EXPECT_FALSE(base64UrlDecode("a").has_value());
}

TEST(PkceTest, S256IsTheRfcExample) {
  // RFC 7636, appendix B.
  EXPECT_EQ(pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  const std::string v = pkceVerifier();
  EXPECT_EQ(v.size(), 43u);
  EXPECT_NE(v, pkceVerifier());
}

Person person(const std::string& email, std::vector<std::string> groups = {}, std::optional<bool> verified = true) {
  Person p;
  p.subject = "s";
  p.email = email;
  p.groups = std::move(groups);
  p.emailVerified = verified;
  return p;
}

TEST(RoleMapTest, TheHighestMatchingRoleWins) {
  RoleMap m;
  ASSERT_TRUE(m.add("admin", "Alice@Example.com").ok());
  ASSERT_TRUE(m.add("admin", "group:ops").ok());
  ASSERT_TRUE(m.add("viewer", "*@example.com").ok());
  ASSERT_TRUE(m.add("deployer", "group:api=api-*,billing").ok());
  EXPECT_EQ(m.grant(person("alice@example.com"))->role, "admin");
  EXPECT_EQ(m.grant(person("bob@example.com"))->role, "viewer");
  EXPECT_EQ(m.grant(person("bob@example.com", {"ops"}))->role, "admin");
  auto d = m.grant(person("carol@elsewhere.org", {"api"}));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->role, "deployer");
  EXPECT_EQ(d->functions, (std::vector<std::string>{"api-*", "billing"}));
  EXPECT_FALSE(m.grant(person("mallory@elsewhere.org")).has_value());
  // Not the domain: a subdomain, or the domain inside another name.
  EXPECT_FALSE(m.grant(person("bob@mail.example.com")).has_value());
  EXPECT_FALSE(m.grant(person("bob@badexample.com")).has_value());
  // Groups compare exactly.
  EXPECT_FALSE(m.grant(person("x@elsewhere.org", {"OPS"})).has_value());
}

TEST(RoleMapTest, AnUnverifiedAddressMatchesNoEmailRule) {
  RoleMap m;
  ASSERT_TRUE(m.add("admin", "alice@example.com").ok());
  ASSERT_TRUE(m.add("viewer", "group:staff").ok());
  EXPECT_FALSE(m.grant(person("alice@example.com", {}, false)).has_value());
  EXPECT_EQ(m.grant(person("alice@example.com", {}, std::nullopt))->role, "admin");  // not said: trusted
  EXPECT_EQ(m.grant(person("alice@example.com", {"staff"}, false))->role, "viewer");
}

TEST(RoleMapTest, DeployerScopesAddUpAndAnUnscopedRuleCoversAll) {
  RoleMap m;
  ASSERT_TRUE(m.add("deployer", "group:a=one").ok());
  ASSERT_TRUE(m.add("deployer", "group:b=two-*").ok());
  ASSERT_TRUE(m.add("deployer", "group:c").ok());
  EXPECT_EQ(m.grant(person("x@y.z", {"a", "b"}))->functions, (std::vector<std::string>{"one", "two-*"}));
  EXPECT_TRUE(m.grant(person("x@y.z", {"a", "c"}))->functions.empty());
}

TEST(RoleMapTest, RefusesRulesItCannotRead) {
  RoleMap m;
  EXPECT_FALSE(m.add("owner", "a@b.c").ok());
  EXPECT_FALSE(m.add("admin", "not-an-address").ok());
  EXPECT_FALSE(m.add("admin", "a@b.c=fn").ok());  // only deployers name functions
  EXPECT_FALSE(m.add("deployer", "a@b.c=Bad_Name").ok());
  EXPECT_FALSE(m.add("viewer", "group:").ok());
  EXPECT_FALSE(m.add("viewer", "a*@b.c").ok());
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.add("viewer", "*").ok());
  EXPECT_EQ(m.grant(person(""))->role, "viewer");
}

TEST(UrlTest, PlainHttpOnlyOnLoopback) {
  auto u = Url::parse("http://127.0.0.1:9000/realms/x?a=b");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->target, "/realms/x?a=b");
  EXPECT_TRUE(allowedUrl(*u).ok());
  EXPECT_TRUE(allowedUrl(*Url::parse("http://[::1]:80/")).ok());
  EXPECT_TRUE(allowedUrl(*Url::parse("http://localhost/")).ok());
  EXPECT_FALSE(allowedUrl(*Url::parse("http://id.example.com/")).ok());
  EXPECT_FALSE(allowedUrl(*Url::parse("http://10.0.0.1/")).ok());
  EXPECT_TRUE(allowedUrl(*Url::parse("https://id.example.com")).ok());
  EXPECT_EQ(Url::parse("https://id.example.com")->str(), "https://id.example.com/");
  EXPECT_FALSE(Url::parse("ftp://x/").ok());
  EXPECT_FALSE(Url::parse("https://user@x/").ok());
  EXPECT_FALSE(Url::parse("https://x:99999/").ok());
}

TEST(RelyingPartyTest, RefusesAPlainHttpIssuerOffLoopbackAndAConfigWithoutRules) {
  Config c;
  c.issuer = "http://id.example.com";
  c.clientId = "fn0";
  c.redirectUri = "http://127.0.0.1:8080/_fn0/auth/oidc/callback";
  RoleMap m;
  ASSERT_TRUE(m.add("admin", "a@b.c").ok());
  EXPECT_FALSE(RelyingParty::create(c, m).ok());
  c.issuer = "https://id.example.com";
  EXPECT_TRUE(RelyingParty::create(c, m).ok());
  EXPECT_FALSE(RelyingParty::create(c, RoleMap{}).ok());
}

}  // namespace
}  // namespace fn0::oidc
