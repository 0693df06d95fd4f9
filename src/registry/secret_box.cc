#include "registry/secret_box.h"

#include <sodium.h>

#include <stdexcept>

#include "common/base64.h"

namespace fn0::registry {

namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == sizeof(SecretKey::bytes));

// sodium_init() picks the implementations and seeds the generator; it is
// thread-safe and cheap after the first call, but must precede any use.
void needSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium could not be initialised");
}

// What the tag covers besides the value: the format, the function, the
// secret's name. Neither name may contain NUL (DNS labels, variable names),
// so the separators make the encoding unambiguous.
std::string associatedData(std::string_view function, std::string_view name) {
  std::string ad = "fn0 secret v1";
  ad.push_back('\0');
  ad += function;
  ad.push_back('\0');
  ad += name;
  return ad;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

SecretKey generateSecretKey() {
  needSodium();
  SecretKey k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.bytes.data());
  k.id = secretKeyId(k.bytes);
  return k;
}

std::string secretKeyId(const std::array<unsigned char, 32>& key) {
  needSodium();
  // BLAKE2b keyed with a constant label: a hash of the key for naming it,
  // separate from any other use of the same bytes.
  static constexpr std::string_view kLabel = "fn0 secrets key id";
  unsigned char digest[crypto_generichash_BYTES_MIN];
  crypto_generichash(digest, sizeof digest, key.data(), key.size(), bytes(kLabel), kLabel.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < 8; i++) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
}

std::string sealSecret(const SecretKey& key, std::string_view function, std::string_view name, std::string_view value) {
  needSodium();
  const std::string ad = associatedData(function, name);
  std::string out(kNonceBytes + value.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &written, bytes(value), value.size(), bytes(ad),
                                             ad.size(), nullptr, nonce, key.bytes.data());
  out.resize(kNonceBytes + written);
  return base64Encode(out);
}

std::optional<std::string> openSecret(const SecretKey& key, std::string_view function, std::string_view name,
                                      std::string_view sealed) {
  needSodium();
  auto raw = base64Decode(sealed);
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return std::nullopt;
  const std::string ad = associatedData(function, name);
  const auto* nonce = bytes(*raw);
  std::string value(raw->size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(value.data()), &length, nullptr,
                                                 nonce + kNonceBytes, raw->size() - kNonceBytes, bytes(ad), ad.size(),
                                                 nonce, key.bytes.data()) != 0)
    return std::nullopt;
  value.resize(length);
  return value;
}

}  // namespace fn0::registry
