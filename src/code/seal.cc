#include "code/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace fn0::code {

namespace {

constexpr std::string_view kMagic = "fn0-artifact-1\n";
constexpr size_t kMacBytes = 32;

std::vector<uint8_t> mac(std::span<const uint8_t> artifact, const std::string& key, const std::string& hash,
                         const std::string& fingerprint) {
  // What the MAC covers: the format, which component, which engine, the code.
  std::string context(kMagic);
  context += fingerprint;
  context.push_back('\0');
  context += hash;
  context.push_back('\0');
  EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = m ? EVP_MAC_CTX_new(m) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  std::vector<uint8_t> out(kMacBytes);
  size_t len = 0;
  const bool ok = ctx && EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(context.data()), context.size()) == 1 &&
                  EVP_MAC_update(ctx, artifact.data(), artifact.size()) == 1 &&
                  EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == kMacBytes;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(m);
  if (!ok) throw std::runtime_error("HMAC-SHA256 failed");  // only on a broken libcrypto
  return out;
}

}  // namespace

std::vector<uint8_t> seal(std::span<const uint8_t> artifact, const std::string& key, const std::string& hash,
                          const std::string& fingerprint) {
  std::vector<uint8_t> out(kMagic.begin(), kMagic.end());
  auto m = mac(artifact, key, hash, fingerprint);
  out.insert(out.end(), m.begin(), m.end());
  out.insert(out.end(), artifact.begin(), artifact.end());
  return out;
}

std::optional<std::vector<uint8_t>> unseal(std::span<const uint8_t> sealed, const std::string& key,
                                           const std::string& hash, const std::string& fingerprint) {
  if (sealed.size() < kMagic.size() + kMacBytes) return std::nullopt;
  if (std::string_view(reinterpret_cast<const char*>(sealed.data()), kMagic.size()) != kMagic) return std::nullopt;
  const auto given = sealed.subspan(kMagic.size(), kMacBytes);
  const auto artifact = sealed.subspan(kMagic.size() + kMacBytes);
  const auto expected = mac(artifact, key, hash, fingerprint);
  if (CRYPTO_memcmp(given.data(), expected.data(), kMacBytes) != 0) return std::nullopt;
  return std::vector<uint8_t>(artifact.begin(), artifact.end());
}

}  // namespace fn0::code
