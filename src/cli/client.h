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
};

class Client {
 public:
  Client(Target target, std::string token) : target_(std::move(target)), token_(std::move(token)) {}

  // `progress(sent, total)` is called while a body uploads.
  Result<Reply> call(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::string& contentType = {},
                     const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

  // Streams the response body to `onData` until the server ends it (logs --follow).
  Result<int> stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const;

  const Target& target() const { return target_; }

 private:
  Target target_;
  std::string token_;
};

}  // namespace fn0::cli
