// Which functions a node holds warm, as a set of 64-bit keys (the first 16
// hex digits of each resident component's content hash). Small on the wire
// (16 characters per function) and quick to test; a collision between two
// functions' keys (2^-64) would only cost a hop to a node that is not warm.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fn0::cluster {

// The key of a content hash (sha256 hex), or nothing for a malformed one.
std::optional<uint64_t> warmKey(std::string_view contentHash);

class WarmSet {
 public:
  WarmSet() = default;
  explicit WarmSet(std::vector<uint64_t> keys);  // sorts, deduplicates
  // The text form (concatenated 16-digit keys); malformed pieces are skipped.
  static WarmSet parse(std::string_view text);
  std::string text() const;

  bool contains(uint64_t key) const { return std::binary_search(keys_.begin(), keys_.end(), key); }
  size_t size() const { return keys_.size(); }
  bool operator==(const WarmSet&) const = default;

 private:
  std::vector<uint64_t> keys_;
};

}  // namespace fn0::cluster
