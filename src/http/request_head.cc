#include "http/request_head.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace fn0::http {

namespace bhttp = boost::beast::http;

namespace {

Refusal bad(std::string detail) { return {400, "bad-request", std::move(detail)}; }

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The elements of a comma-separated list (RFC 9110 §5.6.1), empty ones
// skipped as the RFC asks.
std::vector<std::string> listElements(std::string_view v) {
  std::vector<std::string> out;
  while (true) {
    auto comma = v.find(',');
    auto e = trim(v.substr(0, comma));
    if (!e.empty()) out.push_back(lower(e));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

bool knownCoding(const std::string& c) {
  static const std::array<std::string_view, 7> kKnown = {"chunked", "gzip",     "deflate",   "compress",
                                                        "x-gzip",  "x-compress", "identity"};
  return std::find(kKnown.begin(), kKnown.end(), c) != kKnown.end();
}

bool validPort(std::string_view p) {
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return std::stoul(std::string(p)) <= 65535;
}

std::optional<Refusal> checkTransferEncoding(const bhttp::request_header<>& head) {
  std::vector<std::string> codings;
  for (auto it = head.find(bhttp::field::transfer_encoding);
       it != head.end() && it->name() == bhttp::field::transfer_encoding; ++it) {
    auto e = listElements(it->value());
    codings.insert(codings.end(), e.begin(), e.end());
  }
  if (codings.empty()) {
    if (head.count(bhttp::field::transfer_encoding)) return bad("empty Transfer-Encoding");
    return std::nullopt;
  }
  if (head.version() < 11) return bad("Transfer-Encoding in an HTTP/1.0 request");
  if (head.count(bhttp::field::content_length)) return bad("both Transfer-Encoding and Content-Length");
  for (const auto& c : codings)
    if (!knownCoding(c)) return Refusal{501, "not-implemented", "unknown transfer coding '" + c + "'"};
  if (codings.back() != "chunked") return bad("the final transfer coding is '" + codings.back() + "', not chunked");
  if (std::count(codings.begin(), codings.end(), "chunked") > 1) return bad("chunked applied more than once");
  if (codings.size() > 1)
    return Refusal{501, "not-implemented", "only the chunked transfer coding is supported, got '" + codings[0] + "'"};
  return std::nullopt;
}

}  // namespace

size_t findHeadEnd(std::string_view bytes) {
  // The first empty line, CRLF or bare LF (a bare LF is then refused by
  // scanRawHead at once, rather than waiting for a CRLF that never comes).
  for (size_t i = bytes.find('\n'); i != std::string_view::npos; i = bytes.find('\n', i + 1)) {
    if (i + 1 < bytes.size() && bytes[i + 1] == '\n') return i + 2;
    if (i + 2 < bytes.size() && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

bool plausibleRequestStart(std::string_view bytes) {
  static constexpr std::string_view kTokenExtras = "!#$%&'*+-.^_`|~";
  for (size_t i = 0; i < bytes.size() && i <= 32; i++) {
    const unsigned char c = bytes[i];
    if (c == ' ') return i > 0;
    if (!std::isalnum(c) && kTokenExtras.find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return bytes.size() <= 32;
}

std::optional<Refusal> scanRawHead(std::string_view head) {
  size_t lineStart = 0;
  bool firstLine = true;
  for (size_t i = 0; i < head.size(); i++) {
    const char c = head[i];
    if (c == '\0') return bad("NUL byte in the request head");
    if (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return bad("bare CR in the request head");
    if (c != '\n') continue;
    if (i == 0 || head[i - 1] != '\r') return bad("bare LF in the request head");
    const size_t len = i - 1 - lineStart;
    if (len > kMaxFieldLineBytes)
      return Refusal{431, "headers-too-large", "a request header line is longer than 65000 bytes"};
    if (!firstLine && len > 0 && (head[lineStart] == ' ' || head[lineStart] == '\t'))
      return bad("obsolete line folding in a header field");
    firstLine = false;
    lineStart = i + 1;
  }
  if (head.size() - lineStart > kMaxFieldLineBytes)
    return Refusal{431, "headers-too-large", "a request header line is longer than 65000 bytes"};
  return std::nullopt;
}

bool validHost(std::string_view host) {
  if (host.empty() || host.size() > 261) return false;
  std::string_view name = host, port;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string literal(host.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, literal.c_str(), buf) != 1) return false;
    std::string_view rest = host.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && validPort(rest.substr(1));
  }
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (!validPort(port)) return false;
  }
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

std::optional<Refusal> checkFraming(const bhttp::request_header<>& head) {
  if (auto r = checkTransferEncoding(head)) return r;
  if (head.count(bhttp::field::content_length) > 1) return bad("more than one Content-Length");
  if (auto it = head.find(bhttp::field::content_length); it != head.end()) {
    auto v = it->value();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string_view::npos)
      return bad("Content-Length is not a number");
  }
  const auto hosts = head.count(bhttp::field::host);
  if (hosts == 0) return bad("no Host header");
  if (hosts > 1) return bad("more than one Host header");
  if (!validHost(head[bhttp::field::host])) return bad("invalid Host header");
  auto target = head.target();
  if (target.empty() || target.front() != '/') return bad("the request target must be a path (origin-form)");
  return std::nullopt;
}

}  // namespace fn0::http
