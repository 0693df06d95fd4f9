// Sealed artifacts: native code shared between nodes through the code store
// runs with the node's privileges, so each one carries an HMAC-SHA256 under
// the cluster key (--cluster-key-file), bound to the component's hash and
// the engine fingerprint. A node only deserializes an artifact whose seal
// verifies; anything else is refused (and recompiled by the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fn0::code {

// The bytes to upload: a header, the MAC, then the artifact.
std::vector<uint8_t> seal(std::span<const uint8_t> artifact, const std::string& key, const std::string& hash,
                          const std::string& fingerprint);

// The artifact inside `sealed` when its MAC verifies (constant-time) for
// this key, hash and fingerprint; std::nullopt otherwise.
std::optional<std::vector<uint8_t>> unseal(std::span<const uint8_t> sealed, const std::string& key,
                                           const std::string& hash, const std::string& fingerprint);

}  // namespace fn0::code
