// The node's calls to the OpenID provider (discovery, keys, token,
// userinfo, device authorization): one small HTTP/1.1 request per
// connection (logins are rare; nothing to pool), Boost.Beast, with TLS
// through OpenSSL for https. Certificates are checked against the system's
// store, or a CA file for a private provider, and the host name against the
// certificate. Plain http only to a loopback address (a provider on the same
// machine, the tests): anywhere else, whoever sits on the path could hand
// out identities.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace fn0::oidc {

struct Url {
  std::string scheme;  // http, https
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
  static Result<Url> parse(std::string_view text);
  bool loopback() const;  // 127.0.0.0/8, ::1, localhost
  std::string str() const;
};

// Whether fn0 talks to, or sends a browser to, `u`: https, or http on loopback.
Result<void> allowedUrl(const Url& u);

struct FetchReply {
  int status = 0;
  std::string contentType;
  std::string body;
};

class Fetcher {
 public:
  // `caFile`: PEM certificates to trust instead of the system's ("": the
  // system's store).
  static Result<std::unique_ptr<Fetcher>> create(const std::string& caFile);

  // One request: at most `timeout` in all, at most kMaxBody bytes of answer.
  // `body` goes as application/x-www-form-urlencoded when not empty.
  boost::asio::awaitable<Result<FetchReply>> fetch(std::string method, Url url,
                                                   std::vector<std::pair<std::string, std::string>> headers,
                                                   std::string body);

  static constexpr size_t kMaxBody = 1 << 20;
  std::chrono::seconds timeout{10};

 private:
  explicit Fetcher(boost::asio::ssl::context tls) : tls_(std::move(tls)) {}
  boost::asio::ssl::context tls_;
};

// application/x-www-form-urlencoded / query component escaping.
std::string formEncode(std::string_view s);
std::string formBody(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace fn0::oidc
