#include "http/request_head.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>

#include "http/request_parser.h"

namespace fn0::http {
namespace {

namespace bhttp = boost::beast::http;

// Parses a complete head as the server does; the refusal, if any.
std::optional<Refusal> check(const std::string& head) {
  if (auto r = scanRawHead(head)) return r;
  RequestParser p;
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(head), ec);
  if (ec) return Refusal{400, "bad-request", ec.message()};
  return checkFraming(p.get().base());
}

TEST(RequestHead, FindsTheEndOfTheHead) {
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"), 27u);
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"), std::string_view::npos);
  EXPECT_EQ(findHeadEnd("GET / HTTP/1.1\nHost: x\n\n"), 24u);  // found, so that scanRawHead refuses it
}

TEST(RequestHead, JunkIsRefusedBeforeTheHeadEnds) {
  EXPECT_TRUE(plausibleRequestStart(""));
  EXPECT_TRUE(plausibleRequestStart("GE"));
  EXPECT_TRUE(plausibleRequestStart("GET /partial"));
  EXPECT_FALSE(plausibleRequestStart(" GET /"));
  EXPECT_FALSE(plausibleRequestStart("\x16\x03\x01\x02\x00"));
  EXPECT_FALSE(plausibleRequestStart("G\rET"));
  EXPECT_FALSE(plausibleRequestStart(std::string(40, 'A')));
}

TEST(RequestHead, AcceptsOrdinaryRequests) {
  EXPECT_FALSE(check("GET /a?b=c HTTP/1.1\r\nHost: fn.example.com:8080\r\n\r\n"));
  EXPECT_FALSE(check("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_FALSE(check("POST / HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 3\r\n\r\n"));
  EXPECT_FALSE(check("GET / HTTP/1.0\r\nHost: x\r\n\r\n"));
}

TEST(RequestHead, RefusesRawProblems) {
  EXPECT_EQ(scanRawHead("GET / HTTP/1.1\nHost: x\r\n\r\n")->status, 400);
  EXPECT_EQ(scanRawHead("GET / HTTP/1.1\r\nHost: x\rX\r\n\r\n")->status, 400);
  EXPECT_EQ(scanRawHead(std::string("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 26))->status, 400);
  EXPECT_EQ(scanRawHead("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n")->detail, "obsolete line folding in a header field");
  EXPECT_EQ(scanRawHead("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n")->status, 400);
  auto longLine = scanRawHead("GET / HTTP/1.1\r\nA: " + std::string(65'000, 'v') + "\r\n\r\n");
  ASSERT_TRUE(longLine);
  EXPECT_EQ(longLine->status, 431);
  EXPECT_FALSE(scanRawHead("GET / HTTP/1.1\r\nA: " + std::string(64'000, 'v') + "\r\n\r\n"));
}

TEST(RequestHead, TransferEncodingMustBeExactlyChunked) {
  auto te = [](const std::string& v) {
    auto r = check("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + v + "\r\n\r\n");
    return r ? r->status : 0;
  };
  EXPECT_EQ(te("chunked"), 0);
  EXPECT_EQ(te("Chunked"), 0);
  EXPECT_EQ(te("chunked, identity"), 400);
  EXPECT_EQ(te("identity"), 400);
  EXPECT_EQ(te("chunked, chunked"), 400);
  EXPECT_EQ(te("gzip, chunked"), 501);
  EXPECT_EQ(te("foo"), 501);
  EXPECT_EQ(check("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n")->status,
            400);
  EXPECT_EQ(check("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")->status,
            400);
  EXPECT_EQ(check("POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")->status, 400);
}

TEST(RequestHead, HostAndTarget) {
  EXPECT_EQ(check("GET / HTTP/1.1\r\n\r\n")->detail, "no Host header");
  EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")->detail, "more than one Host header");
  EXPECT_EQ(check("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n")->status, 400);
  EXPECT_EQ(check("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")->status, 400);
  EXPECT_TRUE(validHost("a.b-c_d~e:65535"));
  EXPECT_TRUE(validHost("[2001:db8::1]"));
  EXPECT_FALSE(validHost(""));
  EXPECT_FALSE(validHost("a b"));
  EXPECT_FALSE(validHost("user@host"));
  EXPECT_FALSE(validHost("x:65536"));
  EXPECT_FALSE(validHost("x:"));
  EXPECT_FALSE(validHost("[::1"));
  EXPECT_FALSE(validHost("[zz::1]"));
  EXPECT_FALSE(validHost(std::string(300, 'a')));
}

TEST(RequestParser, ALongTrailerIsAnErrorNotAnException) {
  RequestParser p;
  p.header_limit(1 << 20);
  boost::beast::error_code ec;
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  p.put(boost::asio::buffer(head), ec);
  ASSERT_FALSE(ec);
  const std::string body = "0\r\nX-T: " + std::string(70'000, 't') + "\r\n\r\n";
  uint8_t buf[64];
  p.get().body().data = buf;
  p.get().body().size = sizeof buf;
  EXPECT_NO_THROW(p.put(boost::asio::buffer(body), ec));
  EXPECT_EQ(ec, bhttp::error::header_limit);
}

}  // namespace
}  // namespace fn0::http
