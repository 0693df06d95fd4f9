#include "dispatch/respond.h"

namespace fn0::dispatch {

boost::asio::awaitable<void> sendError(http::Exchange& ex, int status, std::string reason, std::string message) {
  co_await sendError(ex, status, std::move(reason), std::move(message), nlohmann::json::object());
}

boost::asio::awaitable<void> sendError(http::Exchange& ex, int status, std::string reason, std::string message,
                                       nlohmann::json details) {
  ex.annotate("error", reason);
  nlohmann::json body = std::move(details);
  body.update({{"error", reason}, {"message", message}, {"request_id", ex.request().requestId}});
  std::vector<http::Header> headers = {{"content-type", "application/json"}, {"fn0-error", reason}};
  if (http::retryHelps(reason)) headers.emplace_back("retry-after", "1");
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  co_await http::respond(ex, status, std::move(headers), std::move(text));
}

boost::asio::awaitable<void> sendJson(http::Exchange& ex, int status, nlohmann::json body) {
  std::vector<http::Header> headers = {{"content-type", "application/json"}};
  std::string text = body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  co_await http::respond(ex, status, std::move(headers), std::move(text));
}

}  // namespace fn0::dispatch
