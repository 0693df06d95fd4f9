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

}  // namespace

std::string plainNetworkError(const boost::system::error_code& ec) {
  namespace e = asio::error;
  if (ec == e::connection_refused) return "connection refused";
  if (ec == beast::error::timeout || ec == e::timed_out) return "timed out";
  if (ec == e::host_not_found || ec == e::host_not_found_try_again) return "unknown host";
  if (ec == e::network_unreachable || ec == e::host_unreachable) return "no route to it";
  if (ec == e::connection_reset) return "the connection was reset";
  if (ec == e::connection_aborted || ec == e::broken_pipe) return "the connection broke";
  if (ec == e::eof || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
    return "the connection closed";
  if (std::string_view(ec.category().name()) == "beast.http") return "the answer is not valid HTTP (" + ec.message() + ")";
  return ec.message();  // the system's sentence, without category or source location
}

std::string Target::url() const {
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port) +
         basePath;
}

std::string unreachableAdvice() {
  return "Start one with `fn0 serve` or `make run`, or set FN0_SERVER / run `fn0 login --server URL`";
}

namespace {

Result<void> connect(Connection& c, const Target& t) {
  beast::error_code ec;
  tcp::resolver resolver(c.io);
  auto results = resolver.resolve(t.host, std::to_string(t.port), ec);
  if (ec)
    return Error{"cannot reach the fn0 node at " + t.url() + ": " + plainNetworkError(ec) + " '" + t.host +
                     "'; check FN0_SERVER, or run `fn0 login --server URL`",
                 kUnreachable};
  c.stream.expires_after(std::chrono::seconds(10));
  c.stream.connect(results, ec);
  if (ec)
    return Error{"cannot reach the fn0 node at " + t.url() + ": " + plainNetworkError(ec) + ". " + unreachableAdvice(),
                 kUnreachable};
  return {};
}

}  // namespace

Result<Reply> Client::call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& contentType,
                           const std::function<void(uint64_t, uint64_t)>& progress) const {
  return send(method, "/_fn0/api/v1" + path, body, contentType, progress);
}

Result<Reply> Client::callPlatform(const std::string& method, const std::string& path, const std::string& body,
                                   const std::string& contentType) const {
  return send(method, path, body, contentType, {});
}

Result<Reply> Client::send(const std::string& method, const std::string& target, const std::string& body,
                           const std::string& contentType,
                           const std::function<void(uint64_t, uint64_t)>& progress) const {
  Connection c;
  if (auto r = connect(c, target_); !r) return r.error();
  beast::error_code ec;
  bhttp::request<bhttp::empty_body> req;
  req.method_string(method);
  req.target(target_.basePath + target);
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
  if (ec)
    return Error{"the connection to the fn0 node at " + target_.url() + " broke while sending (" + plainNetworkError(ec) +
                     ")",
                 kUnreachable};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  bhttp::read(c.stream, buffer, parser, ec);
  if (ec)
    return Error{"the fn0 node at " + target_.url() + " did not answer (" + plainNetworkError(ec) +
                     "): it may have stopped or restarted; try again",
                 kUnreachable};
  Reply out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(parser.get().body());
  return out;
}

Result<StreamEnd> Client::stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const {
  Connection c;
  if (auto r = connect(c, target_); !r) return r.error();
  beast::error_code ec;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target_.basePath + "/_fn0/api/v1" + path, 11};
  req.set(bhttp::field::host, target_.host + ":" + std::to_string(target_.port));
  req.set(bhttp::field::user_agent, "fn0-cli");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  c.stream.expires_never();
  bhttp::write(c.stream, req, ec);
  if (ec)
    return Error{"the connection to the fn0 node at " + target_.url() + " broke (" + plainNetworkError(ec) + ")",
                 kUnreachable};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(c.stream, buffer, parser, ec);
  if (ec)
    return Error{"the fn0 node at " + target_.url() + " did not answer (" + plainNetworkError(ec) + ")", kUnreachable};
  StreamEnd end;
  end.status = static_cast<int>(parser.get().result_int());
  if (end.status != 200) return end;
  char buf[16384];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    bhttp::read_some(c.stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      end.lost = plainNetworkError(ec);
      return end;
    }
    size_t n = sizeof buf - parser.get().body().size;
    if (n && !onData({buf, n})) {
      end.stopped = true;
      return end;
    }
  }
  end.finished = true;
  return end;
}

}  // namespace fn0::cli
