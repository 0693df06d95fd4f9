// Secrets made by the node (admin tokens, session cookies, CSRF tokens):
// bytes from OpenSSL's CSPRNG, as lowercase hex.
#pragma once

#include <cstddef>
#include <string>

namespace fn0 {

// 2 * `bytes` hex characters; throws std::runtime_error if the generator
// fails (it does not, once the system has entropy).
std::string randomHex(size_t bytes);

}  // namespace fn0
