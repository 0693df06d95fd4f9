#include "dashboard/dashboard.h"

#include <boost/asio.hpp>

#include "dispatch/respond.h"

namespace fn0::dashboard {

namespace asio = boost::asio;

bool isDashboardPath(std::string_view path) {
  return path == "/_fn0" || path == "/_fn0/" || path == "/_fn0/index.html" || path.rfind("/_fn0/assets/", 0) == 0;
}

const std::vector<http::Header>& securityHeaders() {
  // No inline script or style, nothing from another origin: the page is
  // its own files and the API. frame-ancestors: never inside another site.
  static const std::vector<http::Header> h = {
      {"content-security-policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"x-content-type-options", "nosniff"},
      {"referrer-policy", "no-referrer"},
      {"x-frame-options", "DENY"},
  };
  return h;
}

asio::awaitable<void> serve(http::Exchange& ex, std::string path) {
  const std::string method = ex.request().method;
  if (method != "GET" && method != "HEAD") {
    const std::string reason = "method-not-allowed", message = method + " is not allowed on the dashboard's files";
    co_await dispatch::sendError(ex, 405, reason, message);
    co_return;
  }
  if (path == "/_fn0") {
    std::vector<http::Header> headers = {{"location", "/_fn0/"}, {"content-type", "text/plain"}};
    std::string body = "the dashboard is at /_fn0/\n";
    co_await http::respond(ex, 308, std::move(headers), std::move(body));
    co_return;
  }
  if (path == "/_fn0/index.html") path = "/_fn0/";
  for (const Asset& a : assets()) {
    if (a.path != path) continue;
    std::vector<http::Header> headers = securityHeaders();
    headers.emplace_back("content-type", std::string(a.contentType));
    headers.emplace_back("cache-control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache");
    const int status = 200;
    co_await ex.writeWhole(status, headers, a.body);
    co_return;
  }
  const std::string reason = "not-found", message = "no dashboard file " + path.substr(0, 200);
  co_await dispatch::sendError(ex, 404, reason, message);
}

}  // namespace fn0::dashboard
