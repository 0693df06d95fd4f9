#include "http.hpp"

#include <cstdio>

namespace http {

namespace types = wasi::http::types;

namespace {

constexpr uint64_t kReadChunk = 64 * 1024;
constexpr size_t kWriteChunk = 4096;  // what BlockingWriteAndFlush takes at most

std::string methodName(const types::Method& m) {
  static constexpr const char* kNames[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  if (const auto* other = std::get_if<types::Method::Other>(&m.variants)) return other->value.to_string();
  return kNames[m.variants.index()];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

Request::Request(IncomingRequest&& request) : request_(std::move(request)), method_(methodName(request_.Method())) {
  const std::string target = request_.PathWithQuery().transform([](const wit::string& s) { return s.to_string(); }).value_or("/");
  const auto q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string::npos) query_ = target.substr(q + 1);
  const auto entries = request_.Headers().Entries();
  for (const auto& [name, value] : entries.get_const_view()) {
    const auto bytes = value.get_const_view();
    headers_.emplace_back(lower(name.get_view()), std::string(bytes.begin(), bytes.end()));
  }
}

std::optional<std::string> Request::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : headers_)
    if (n == key) return v;
  return std::nullopt;
}

bool Request::readBody(const std::function<void(std::span<const uint8_t>)>& chunk) {
  auto body = request_.Consume();
  if (!body) return false;
  bool complete = false;
  if (auto stream = body->Stream()) {
    while (true) {
      auto data = stream->BlockingRead(kReadChunk);
      if (!data) {
        complete = std::holds_alternative<wasi::io::streams::StreamError::Closed>(data.error().variants);
        break;
      }
      chunk(data->get_const_view());
    }
  }  // the stream is dropped before its body is finished
  types::IncomingBody::Finish(std::move(*body));
  return complete;
}

std::string Request::body() {
  std::string out;
  readBody([&](std::span<const uint8_t> c) { out.append(c.begin(), c.end()); });
  return out;
}

Response::Response(ResponseOutparam&& out, uint16_t status, std::initializer_list<Header> headers) {
  types::Fields fields;
  for (const auto& [name, value] : headers)
    (void)fields.Append(name, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
  types::OutgoingResponse response(std::move(fields));
  (void)response.SetStatusCode(status);
  if (auto b = response.Body()) {
    body_.emplace(std::move(*b));
    if (auto s = body_->Write()) stream_.emplace(std::move(*s));
  }
  ResponseOutparam::Set(std::move(out), std::move(response));
}

Response::~Response() {
  stream_.reset();
  if (body_) (void)types::OutgoingBody::Finish(std::move(*body_), std::nullopt);
}

bool Response::write(std::span<const uint8_t> bytes) {
  if (!stream_) return false;
  for (size_t i = 0; i < bytes.size(); i += kWriteChunk)
    if (!stream_->BlockingWriteAndFlush(bytes.subspan(i, std::min(kWriteChunk, bytes.size() - i)))) return false;
  return true;
}

void respond(ResponseOutparam&& out, uint16_t status, std::string_view contentType, std::string_view body) {
  Response response(std::move(out), status, {{"content-type", contentType}});
  response.write(body);
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace http
