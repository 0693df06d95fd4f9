// SHA-256 of a byte string, as lowercase hex: the content address of
// components (blobs, artifacts).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fn0 {

std::string sha256Hex(std::span<const uint8_t> bytes);

}  // namespace fn0
