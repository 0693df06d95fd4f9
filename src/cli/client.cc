#include "cli/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <strings.h>

namespace fn0::cli {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string Reply::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

Result<Target> Target::parse(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  else if (rest.rfind("https://", 0) == 0)
    return Error{"https:// servers are not supported by this fn0 yet: put a TLS-terminating proxy in front and use http:// locally"};
  else if (rest.find("://") != std::string::npos)
    return Error{"unsupported URL scheme in '" + url + "'"};
  Target t;
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) t.basePath = rest.substr(slash);
  while (!t.basePath.empty() && t.basePath.back() == '/') t.basePath.pop_back();
  auto colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    t.host = hostport.substr(0, colon);
    try {
      int p = std::stoi(hostport.substr(colon + 1));
      if (p <= 0 || p > 65535) throw std::out_of_range("port");
      t.port = static_cast<uint16_t>(p);
    } catch (...) {
      return Error{"invalid port in '" + url + "'"};
    }
  } else {
    t.host = hostport;
  }
  if (t.host.empty()) return Error{"no host in '" + url + "'"};
  return t;
}

namespace {

struct Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
};

Result<void> connect(Connection& c, const Target& t) {
  beast::error_code ec;
  tcp::resolver resolver(c.io);
  auto results = resolver.resolve(t.host, std::to_string(t.port), ec);
  if (ec) return Error{"cannot resolve " + t.host + ": " + ec.message()};
  c.stream.expires_after(std::chrono::seconds(10));
  c.stream.connect(results, ec);
  if (ec)
    return Error{"cannot reach the fn0 server at http://" + t.host + ":" + std::to_string(t.port) + " (" +
                 ec.message() + "): is `fn0 serve` running there?"};
  return {};
}

}  // namespace

Result<Reply> Client::call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& contentType,
                           const std::function<void(uint64_t, uint64_t)>& progress) const {
  Connection c;
  if (auto r = connect(c, target_); !r) return r.error();
  beast::error_code ec;
  bhttp::request<bhttp::empty_body> req;
  req.method_string(method);
  req.target(target_.basePath + "/_fn0/api/v1" + path);
  req.version(11);
  req.set(bhttp::field::host, target_.host + ":" + std::to_string(target_.port));
  req.set(bhttp::field::user_agent, "fn0-cli");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  if (!contentType.empty()) req.set(bhttp::field::content_type, contentType);
  if (!body.empty() || method == "POST" || method == "PUT") req.content_length(body.size());
  req.keep_alive(false);
  c.stream.expires_after(std::chrono::minutes(10));
  bhttp::request_serializer<bhttp::empty_body> sr(req);
  bhttp::write_header(c.stream, sr, ec);
  // The body in pieces, so a progress bar can follow a large upload.
  size_t sent = 0;
  while (!ec && sent < body.size()) {
    size_t n = std::min<size_t>(256 * 1024, body.size() - sent);
    asio::write(c.stream, asio::buffer(body.data() + sent, n), ec);
    sent += n;
    if (progress) progress(sent, body.size());
  }
  if (ec) return Error{"connection to the server failed while sending: " + ec.message()};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  bhttp::read(c.stream, buffer, parser, ec);
  if (ec) return Error{"the server closed the connection without an answer: " + ec.message()};
  Reply out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(parser.get().body());
  return out;
}

Result<int> Client::stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const {
  Connection c;
  if (auto r = connect(c, target_); !r) return r.error();
  beast::error_code ec;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target_.basePath + "/_fn0/api/v1" + path, 11};
  req.set(bhttp::field::host, target_.host + ":" + std::to_string(target_.port));
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  c.stream.expires_never();
  bhttp::write(c.stream, req, ec);
  if (ec) return Error{"connection to the server failed: " + ec.message()};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(c.stream, buffer, parser, ec);
  if (ec) return Error{"the server closed the connection: " + ec.message()};
  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) return status;
  char buf[16384];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    bhttp::read_some(c.stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
    size_t n = sizeof buf - parser.get().body().size;
    if (n && !onData({buf, n})) break;
  }
  return status;
}

}  // namespace fn0::cli
