#include "common/random.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace fn0 {

std::string randomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("no random bytes");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char x : b) {
    out += kHex[x >> 4];
    out += kHex[x & 15];
  }
  return out;
}

}  // namespace fn0
