// Secret values at rest: each one sealed with authenticated encryption
// (libsodium's XChaCha20-Poly1305, IETF construction) under a 256-bit key
// kept in a key file apart from the registry (secret_keys.h), so a copy of
// registry.db or a database dump reveals no value.
//
// - A random 192-bit nonce per value: two seals of one value differ, and
//   random nonces of that size never repeat in practice (no counter to keep
//   across nodes).
// - The function's name and the secret's name are the associated data: a
//   ciphertext copied onto another function or another name does not open,
//   so someone who can write to the database but lacks the key cannot move
//   a secret to a function they control.
// - A key is named by its id (a fingerprint of the key, never the key), which
//   the registry stores beside each value: a node opens a value with any key
//   it holds, so a rotation proceeds while nodes hold both keys.
//
// Nothing here logs or returns a value in an error.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace fn0::registry {

struct SecretKey {
  std::string id;  // 16 hex digits, keyId(bytes)
  std::array<unsigned char, 32> bytes{};
};

// A new random key (libsodium's generator).
SecretKey generateSecretKey();

// The id of a key: the first 8 bytes of a keyed BLAKE2b of the key, in hex.
// One-way, so printing it, storing it and naming it in errors reveals
// nothing of the key; and a key file's line can be checked against it.
std::string secretKeyId(const std::array<unsigned char, 32>& bytes);

// The stored form of `value`, as text (base64 of nonce, ciphertext, tag),
// bound to `function` and `name`.
std::string sealSecret(const SecretKey& key, std::string_view function, std::string_view name, std::string_view value);

// The value sealed in `sealed`, or std::nullopt when it does not open: the
// wrong key, a ciphertext altered or moved to another function or name, or
// text that is not a sealed value at all.
std::optional<std::string> openSecret(const SecretKey& key, std::string_view function, std::string_view name,
                                      std::string_view sealed);

}  // namespace fn0::registry
