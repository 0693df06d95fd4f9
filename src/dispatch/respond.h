// Platform-generated responses: errors carry `fn0-error` (a machine-readable
// reason) and the request id (added by the HTTP layer), with a JSON body.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http/exchange.h"

namespace fn0::dispatch {

// Parameters by value: the coroutine owns its copies from the start.
boost::asio::awaitable<void> sendError(http::Exchange& ex, int status, std::string reason, std::string message);
// The same with more fields for programs (an object, merged into the body).
boost::asio::awaitable<void> sendError(http::Exchange& ex, int status, std::string reason, std::string message,
                                       nlohmann::json details);
boost::asio::awaitable<void> sendJson(http::Exchange& ex, int status, nlohmann::json body);

}  // namespace fn0::dispatch
