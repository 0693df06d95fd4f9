#include "oidc/fetch.h"

#include <cctype>
#include <arpa/inet.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace fn0::oidc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool isIp(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

template <typename Stream>
asio::awaitable<Result<FetchReply>> exchange(Stream& stream, bhttp::request<bhttp::string_body>& req) {
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec) co_return Error{"cannot send the request: " + wec.message()};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(Fetcher::kMaxBody);
  parser.header_limit(64 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  if (rec == bhttp::error::body_limit) co_return Error{"the answer is larger than 1 MiB"};
  if (rec) co_return Error{"no answer: " + rec.message()};
  auto res = parser.release();
  FetchReply out;
  out.status = static_cast<int>(res.result_int());
  out.contentType = std::string(res[bhttp::field::content_type]);
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

Result<Url> Url::parse(std::string_view text) {
  Url u;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return Error{"'" + std::string(text.substr(0, 200)) + "' is not an absolute URL"};
  u.scheme = std::string(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https")
    return Error{"'" + std::string(text.substr(0, 200)) + "': only http and https URLs"};
  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (const auto hash = u.target.find('#'); hash != std::string::npos) u.target.erase(hash);
  if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
  if (authority.find('@') != std::string_view::npos) return Error{"URLs with user information are not accepted"};
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Error{"broken IPv6 address in '" + std::string(text.substr(0, 200)) + "'"};
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Error{"broken authority in '" + std::string(text.substr(0, 200)) + "'"};
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Error{"no host in '" + std::string(text.substr(0, 200)) + "'"};
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return Error{"bad port in '" + std::string(text.substr(0, 200)) + "'"};
    const int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return Error{"bad port in '" + std::string(text.substr(0, 200)) + "'"};
    u.port = static_cast<uint16_t>(p);
  }
  return u;
}

bool Url::loopback() const {
  if (host == "localhost" || host == "::1") return true;
  unsigned char buf[4];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 && buf[0] == 127;
}

std::string Url::str() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://" + (v6 ? "[" + host + "]" : host);
  if (port != (scheme == "https" ? 443 : 80)) out += ":" + std::to_string(port);
  return out + target;
}

Result<void> allowedUrl(const Url& u) {
  if (u.scheme == "https" || u.loopback()) return {};
  return Error{u.str().substr(0, 200) + ": the provider must be reached over https (plain http only on loopback)"};
}

std::string formEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += formEncode(k) + "=" + formEncode(v);
  }
  return out;
}

Result<std::unique_ptr<Fetcher>> Fetcher::create(const std::string& caFile) {
  try {
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (caFile.empty())
      tls.set_default_verify_paths();
    else
      tls.load_verify_file(caFile);
    tls.set_verify_mode(asio::ssl::verify_peer);
    return std::unique_ptr<Fetcher>(new Fetcher(std::move(tls)));
  } catch (const std::exception& e) {
    return Error{"TLS for the OpenID provider" + (caFile.empty() ? std::string() : " (" + caFile + ")") + ": " + e.what()};
  }
}

asio::awaitable<Result<FetchReply>> Fetcher::fetch(std::string method, Url url,
                                                   std::vector<std::pair<std::string, std::string>> headers,
                                                   std::string body) {
  if (auto ok = allowedUrl(url); !ok) co_return ok.error();
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = url.str().substr(0, 200);
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), kTuple);
  if (rec) co_return Error{"cannot resolve " + url.host + ": " + rec.message()};
  beast::tcp_stream stream(ex);
  stream.expires_at(deadline);
  auto [cec, ep] = co_await stream.async_connect(results, kTuple);
  if (cec) co_return Error{"cannot connect to " + where + ": " + cec.message()};

  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), url.target, 11};
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  if (url.port != (url.scheme == "https" ? 443 : 80)) host += ":" + std::to_string(url.port);
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "fn0");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::connection, "close");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = std::move(body);
  }
  req.prepare_payload();

  Result<FetchReply> r = Error{""};
  if (url.scheme == "https") {
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), tls_);
    // SNI (not for an address), and the certificate must name the host.
    if (!isIp(url.host)) SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str());
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) co_return Error{"TLS with " + where + " failed: " + hec.message()};
    r = co_await exchange(tls, req);
  } else {
    r = co_await exchange(stream, req);
  }
  if (!r) co_return Error{where + ": " + r.error().message};
  co_return r;
}

}  // namespace fn0::oidc
