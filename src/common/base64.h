// Base64 (RFC 4648, with padding): how `fn0 kv export` writes values, which
// may be any bytes, into JSON lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fn0 {

inline std::string base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t j = 0; j < 3; j++) v = v << 8 | (j < n ? static_cast<unsigned char>(in[i + j]) : 0);
    for (size_t j = 0; j < 4; j++) out += j <= n ? kAlphabet[(v >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

// nullopt when `in` is not base64 (a bad character or length).
inline std::optional<std::string> base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  if (in.size() % 4) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    size_t pad = 0;
    for (size_t j = 0; j < 4; j++) {
      const char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        pad++;
        v <<= 6;
        continue;
      }
      const int d = value(c);
      if (d < 0 || pad) return std::nullopt;
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>(v >> 8 & 255);
    if (pad < 1) out += static_cast<char>(v & 255);
  }
  return out;
}

}  // namespace fn0
