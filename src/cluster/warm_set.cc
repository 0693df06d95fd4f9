#include "cluster/warm_set.h"

#include <charconv>

namespace fn0::cluster {

namespace {
constexpr size_t kDigits = 16;

std::optional<uint64_t> hex64(std::string_view s) {
  if (s.size() != kDigits) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<uint64_t> warmKey(std::string_view contentHash) {
  if (contentHash.size() < kDigits) return std::nullopt;
  return hex64(contentHash.substr(0, kDigits));
}

WarmSet::WarmSet(std::vector<uint64_t> keys) : keys_(std::move(keys)) {
  std::sort(keys_.begin(), keys_.end());
  keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
}

WarmSet WarmSet::parse(std::string_view text) {
  std::vector<uint64_t> keys;
  keys.reserve(text.size() / kDigits);
  for (size_t at = 0; at + kDigits <= text.size(); at += kDigits)
    if (auto k = hex64(text.substr(at, kDigits))) keys.push_back(*k);
  return WarmSet(std::move(keys));
}

std::string WarmSet::text() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(keys_.size() * kDigits, '0');
  for (size_t i = 0; i < keys_.size(); i++)
    for (size_t d = 0; d < kDigits; d++) out[i * kDigits + d] = kHex[(keys_[i] >> (4 * (kDigits - 1 - d))) & 15];
  return out;
}

}  // namespace fn0::cluster
