// The CLI's connection to a node: a small blocking HTTP/1.1 client
// (Boost.Beast) for the admin API, with clear errors for the ways a call
// fails before the server answers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include "common/result.h"

namespace fn0::cli {

struct Reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;
};

struct Target {
  std::string host;
  uint16_t port = 80;
  std::string basePath;  // e.g. "" or "/prefix"
  static Result<Target> parse(const std::string& url);
  std::string url() const;  // "http://host:port/prefix", for messages
};

// Error::code of a call that got no answer (the node is down, unknown host,
// the connection broke).
inline constexpr const char* kUnreachable = "unreachable";

// How a network failure reads in a message: "connection refused", "timed
// out"... (never Beast's or asio's category names).
std::string plainNetworkError(const boost::system::error_code& ec);
// What to do when no node answers (the end of the "cannot reach" message).
std::string unreachableAdvice();

// How a streamed answer ended.
struct StreamEnd {
  int status = 0;         // only a 200 was streamed
  bool finished = false;  // the node ended the response (it is stopping)
  bool stopped = false;   // onData asked to stop
  std::string lost;       // why the connection broke ("" if it did not)
};

class Client {
 public:
  Client(Target target, std::string token) : target_(std::move(target)), token_(std::move(token)) {}

  // `progress(sent, total)` is called while a body uploads.
  Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::string& contentType = {},
                     const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

  // The same for a platform path outside the API ("/_fn0/auth/oidc/device").
  Result<Reply> callPlatform(const std::string& method, const std::string& path, const std::string& body = {},
                             const std::string& contentType = {}) const;

  // Streams the response body to `onData` until the node ends it, the
  // connection breaks or onData returns false (logs --follow).
  Result<StreamEnd> stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const;

  const Target& target() const { return target_; }

 private:
  Result<Reply> send(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& contentType, const std::function<void(uint64_t, uint64_t)>& progress) const;
  Target target_;
  std::string token_;
};

}  // namespace fn0::cli
