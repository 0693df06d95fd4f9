// Small readers of an admin request the API's files share.
#pragma once

#include <string>

#include "http/exchange.h"

namespace fn0::admin {

// The raw (not percent-decoded) value of `name` in a query string, "true"
// for a bare `name`, "" when absent.
std::string queryParam(const std::string& query, const std::string& name);

// A request header's value, "" when absent (names compared without case).
std::string requestHeader(const http::Request& r, const std::string& name);

}  // namespace fn0::admin
