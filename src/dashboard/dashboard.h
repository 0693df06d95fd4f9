// The web dashboard's files (built from dashboard/ at build time and
// embedded in the binary, see embed_assets.py), served under /_fn0/ with a
// strict Content-Security-Policy. The page itself talks to the admin API
// like any client; nothing here knows about functions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/exchange.h"

namespace fn0::dashboard {

struct Asset {
  std::string_view path;  // "/_fn0/" for index.html, "/_fn0/assets/app.1a2b3c4d.js", ...
  std::string_view contentType;
  std::span<const uint8_t> body;
  bool immutable;  // a content-hashed name: cached for a year
};

// Every embedded file (generated: assets.cc).
std::span<const Asset> assets();

// The paths this serves: /_fn0, /_fn0/, /_fn0/index.html, /_fn0/assets/...
bool isDashboardPath(std::string_view path);

// The security headers every dashboard response carries.
const std::vector<http::Header>& securityHeaders();

// Answers GET/HEAD for `path` (404 for an unknown asset, 405 for another
// method, a redirect from /_fn0 to /_fn0/).
boost::asio::awaitable<void> serve(http::Exchange& ex, std::string path);

}  // namespace fn0::dashboard
