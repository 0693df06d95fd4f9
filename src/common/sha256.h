// SHA-256 of a byte string, as lowercase hex: the content address of
// components (blobs, artifacts); HMAC for secrets derived from a key.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fn0 {

std::string sha256Hex(std::span<const uint8_t> bytes);

// HMAC-SHA256 of `message` under `key`, as lowercase hex.
std::string hmacSha256Hex(const std::string& key, const std::string& message);

// Equal strings, compared in time independent of where they differ.
bool constantTimeEqual(const std::string& a, const std::string& b);

}  // namespace fn0
