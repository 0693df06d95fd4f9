// Small helpers over the wasi:http bindings (proxy_cpp.h, which `fn0 build`
// generates under build/): a request with its method, path and headers, its
// body read in chunks, and a response written in chunks.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy_cpp.h"

namespace http {

using wasi::http::types::IncomingRequest;
using wasi::http::types::ResponseOutparam;
using Header = std::pair<std::string_view, std::string_view>;

class Request {
 public:
  explicit Request(IncomingRequest&& request);
  const std::string& method() const { return method_; }  // "GET", "POST", ...
  const std::string& path() const { return path_; }      // without the query
  const std::string& query() const { return query_; }
  std::optional<std::string> header(std::string_view name) const;  // the first value
  // Calls `chunk` with each piece of the body as it arrives; false when the
  // body could not be read to its end.
  bool readBody(const std::function<void(std::span<const uint8_t>)>& chunk);
  std::string body();

 private:
  IncomingRequest request_;
  std::string method_, path_, query_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// Sends the status and headers at once, the body as it is written, and ends
// the body when it goes out of scope.
class Response {
 public:
  Response(ResponseOutparam&& out, uint16_t status, std::initializer_list<Header> headers);
  ~Response();
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;
  bool write(std::span<const uint8_t> bytes);
  bool write(std::string_view text) { return write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}); }

 private:
  std::optional<wasi::http::types::OutgoingBody> body_;
  std::optional<wasi::io::streams::OutputStream> stream_;
};

void respond(ResponseOutparam&& out, uint16_t status, std::string_view contentType, std::string_view body);

// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

}  // namespace http
