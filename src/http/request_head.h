// Strict checks on a request head, before and after Beast parses it: what
// RFC 9112 lets a server refuse, and what it must refuse so that two
// parsers never disagree about where a request ends (request smuggling).
// Pure functions on bytes and parsed fields: the fuzz targets call them as
// the server does.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fn0::http {

// Why a request is refused before any handler runs.
struct Refusal {
  int status = 400;
  std::string reason;  // fn0-error
  std::string detail;  // for the access log and the error body
};

// Beast stores a field's name and value lengths in 16 bits and throws when
// either passes them; one line longer than this is refused with 431 before
// Beast sees it, whatever the configured header limit.
constexpr size_t kMaxFieldLineBytes = 65000;

// Where the head ends: the offset just past the first empty line (CRLF, or
// a bare LF that scanRawHead then refuses), or npos while it is incomplete.
size_t findHeadEnd(std::string_view bytes);

// Whether `bytes`, a head still arriving, can begin a request: its method
// so far is a token of at most 32 characters, then a space. Anything else
// (TLS on the plain port, binary junk) is refused at once instead of
// waiting for a blank line that never comes.
bool plausibleRequestStart(std::string_view bytes);

// Checks the raw head (request line through the blank line): line endings
// are CRLF, no obsolete line folding, no NUL, every line shorter than
// kMaxFieldLineBytes.
std::optional<Refusal> scanRawHead(std::string_view head);

// Checks the parsed head: message framing (Transfer-Encoding and
// Content-Length, RFC 9112 §6), exactly one valid Host, and an
// origin-form target.
std::optional<Refusal> checkFraming(const boost::beast::http::request_header<>& head);

// uri-host [ ":" port ] (RFC 9110 §7.2): a reg-name, an IPv4 address or a
// bracketed IPv6 literal.
bool validHost(std::string_view host);

}  // namespace fn0::http
