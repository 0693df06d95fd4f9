// Small readers of an admin request the API's files share.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/exchange.h"

namespace fn0::admin {

// A registry read that failed while the API was answering: thrown out of
// the route (always before any response byte) and answered by failed().
struct RegistryFailure {
  Error error;
};

// sha256 hex of the request's bearer token, "" without one. Tokens are
// compared as hashes: the registry stores only those.
std::string bearerHash(const http::Request& r);
// The bearer credential itself, "" without one.
std::string bearerToken(const http::Request& r);

// The raw (not percent-decoded) value of `name` in a query string, "true"
// for a bare `name`, "" when absent.
std::string queryParam(const std::string& query, const std::string& name);

// A request header's value, "" when absent (names compared without case).
std::string requestHeader(const http::Request& r, const std::string& name);

// Answers a failure: 503 with the error's code when the registry database
// or the code store is away (the client may retry), otherwise `status`.
boost::asio::awaitable<void> failed(http::Exchange& ex, const Error& e, int status = 500,
                                    std::string reason = "internal");

// Reads the whole request body (admin requests only); nullopt past `limit`.
boost::asio::awaitable<std::optional<std::string>> readAll(http::Exchange& ex, uint64_t limit);

}  // namespace fn0::admin
