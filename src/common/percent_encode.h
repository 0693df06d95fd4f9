// Percent-encoding (RFC 3986) of a path segment or query value: every byte
// but the unreserved ones (letters, digits, - _ . ~) becomes %XX.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace fn0 {

inline std::string percentEncode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace fn0
