// Fuzz target: the request head and body framing, exactly the steps the
// server takes for a connection's bytes (connection.cc readHead and
// readBody): find the head, scan it raw, parse it with RequestParser, check
// the framing, then parse the body through a small buffer. Any exception,
// crash or sanitizer report is a finding: the server must refuse, not fail.
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <string_view>

#include "http/request_head.h"
#include "http/request_parser.h"

using namespace fn0::http;
namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)validHost(in.substr(0, 300));
  (void)plausibleRequestStart(in.substr(0, 64));
  const size_t end = findHeadEnd(in);
  if (end == std::string_view::npos) return 0;
  const std::string_view head = in.substr(0, end);
  if (scanRawHead(head)) return 0;
  RequestParser p;
  p.header_limit(128 * 1024);
  p.body_limit(1 << 20);
  boost::beast::error_code ec;
  const size_t used = p.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec || !p.is_header_done()) return 0;
  if (checkFraming(p.get().base())) return 0;
  std::string_view rest = in.substr(used);
  uint8_t body[512];
  for (int rounds = 0; !p.is_done() && rounds < 100000; rounds++) {
    p.get().body().data = body;
    p.get().body().size = sizeof body;
    const size_t n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(n);
    if (ec == bhttp::error::need_buffer) {
      ec = {};
      continue;
    }
    if (ec == bhttp::error::need_more || (!ec && n == 0)) {
      p.put_eof(ec);
      break;
    }
    if (ec) break;
  }
  return 0;
}
