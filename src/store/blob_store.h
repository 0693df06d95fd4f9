// Content-addressed blob store: the original component bytes of every
// version, under <dir>/sha256/<first two hex>/<hash>, written atomically so
// a crash never leaves a partial blob behind a valid name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace fn0::store {

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path dir);

  // Stores `bytes` (idempotent) and returns their sha256 hex.
  Result<std::string> put(std::span<const uint8_t> bytes);
  // Stores bytes whose hash the caller already computed.
  Result<void> putWithHash(const std::string& hash, std::span<const uint8_t> bytes);
  Result<std::vector<uint8_t>> get(const std::string& hash) const;
  bool has(const std::string& hash) const;
  std::filesystem::path pathOf(const std::string& hash) const;

 private:
  std::filesystem::path dir_;
};

// Whether `s` is a lowercase sha256 hex string (64 chars).
bool isSha256Hex(const std::string& s);

}  // namespace fn0::store
