// One connection: read a request head (strictly: request_head.h), run the
// handler through an Exchange, keep-alive, lingering close. Nothing a
// client sends may end this coroutine with an exception that escapes it.
#include <nlohmann/json.hpp>
#include <random>

#include "common/units.h"
#include "http/server_impl.h"

namespace fn0::http {

namespace {

std::string newRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// Beast errors that only mean "the client went away".
bool clientGone(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

Refusal headersTooLarge(const ServerConfig& cfg) {
  return {431, "headers-too-large", "the request head is larger than this node's limit of " +
                                        formatBytes(cfg.maxHeaderBytes)};
}

Refusal refusalFor(const beast::error_code& ec, const ServerConfig& cfg) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) return headersTooLarge(cfg);
  if (ec == bhttp::error::body_limit)
    return {413, "body-too-large", "the request body exceeds this node's limit of " + formatBytes(cfg.maxBodyBytes)};
  return {400, "bad-request", ec.message()};
}

// The JSON body of a refusal: the reason, what it means, the request id.
std::string refusalBody(const Refusal& r, const std::string& id) {
  const nlohmann::json body = {{"error", r.reason}, {"message", r.detail}, {"request_id", id}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

class ExchangeImpl : public Exchange {
 public:
  ExchangeImpl(Conn& c, RequestParser& p, Request req, const ServerConfig& cfg, bool keepAlive)
      : conn_(c), parser_(p), req_(std::move(req)), cfg_(cfg), keepAlive_(keepAlive) {
    bodyDone_ = parser_.is_done();
    auto expect = parser_.get()[bhttp::field::expect];
    expectContinue_ = beast::iequals(expect, "100-continue");
  }

  const Request& request() const override { return req_; }

  asio::awaitable<BodyPiece> readBody() override {
    if (bodyCancelled_ || broken_ || refusal_) co_return BodyPiece{BodyPiece::Failed, {}};
    if (!bodyStarted_) {
      bodyStarted_ = true;
      bodyStart_ = Clock::now();
    }
    if (expectContinue_ && !parser_.is_done()) {
      // The client waits for this before sending the body (curl does for
      // uploads over 1 KB).
      expectContinue_ = false;
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      conn_.stream.expires_after(cfg_.ioTimeout);
      const auto buf = asio::buffer(kContinue);
      auto [ec, n] = co_await asio::async_write(conn_.stream, buf, kTuple);
      if (ec) {
        bodyCancelled_ = true;
        co_return BodyPiece{BodyPiece::Failed, {}};
      }
    }
    for (;;) {
      if (parser_.is_done()) {
        bodyDone_ = true;
        co_return BodyPiece{BodyPiece::End, {}};
      }
      auto* buf = conn_.bodyBuffer();
      parser_.get().body().data = buf;
      parser_.get().body().size = Conn::kBodyBufferBytes;
      conn_.stream.expires_at(bodyDeadline());
      auto [ec, n] = co_await bhttp::async_read_some(conn_.stream, conn_.buffer, parser_, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) {
        bodyCancelled_ = true;
        co_return BodyPiece{BodyPiece::TooLarge, {}};
      }
      if (ec || bodyCancelled_) {
        bodyFailed(ec);
        co_return BodyPiece{BodyPiece::Failed, {}};
      }
      size_t got = Conn::kBodyBufferBytes - parser_.get().body().size;
      bytesIn_ += got;
      if (got > 0) co_return BodyPiece{BodyPiece::Data, {buf, got}};
    }
  }

  void cancelBody() override {
    if (bodyDone_ || bodyCancelled_) return;
    bodyCancelled_ = true;
    beast::error_code ignored;
    conn_.stream.socket().cancel(ignored);  // a closed socket has nothing to cancel
  }
  bool bodyDone() const override { return bodyDone_; }

  asio::awaitable<bool> writeHead(int status, const std::vector<Header>& headers,
                                  std::optional<uint64_t> contentLength) override {
    if (refusal_) co_return co_await writeRefusal();
    prepareHead(status, headers, contentLength);
    res_->body().data = nullptr;
    res_->body().more = !noBody_;
    sr_.emplace(*res_);
    conn_.stream.expires_after(cfg_.ioTimeout);
    auto [ec, n] = co_await bhttp::async_write_header(conn_.stream, *sr_, kTuple);
    bytesOut_ += n;
    if (ec) {
      broken_ = true;
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> writeWhole(int status, const std::vector<Header>& headers,
                                   std::span<const uint8_t> body) override {
    if (refusal_) co_return co_await writeRefusal();
    const std::optional<uint64_t> length = body.size();
    prepareHead(status, headers, length);
    res_->body().data = noBody_ ? nullptr : const_cast<uint8_t*>(body.data());
    res_->body().size = noBody_ ? 0 : body.size();
    res_->body().more = false;
    sr_.emplace(*res_);
    conn_.stream.expires_after(cfg_.ioTimeout);
    auto [ec, n] = co_await bhttp::async_write(conn_.stream, *sr_, kTuple);
    bytesOut_ += n;
    if (ec) {
      broken_ = true;
      co_return false;
    }
    bodyWritten_ = body.size();
    complete_ = true;
    co_return true;
  }

  asio::awaitable<bool> writeBody(std::span<const uint8_t> data) override {
    if (broken_) co_return false;
    if (noBody_ || data.empty()) co_return true;
    if (contentLength_ && bodyWritten_ + data.size() > *contentLength_) {
      abort();  // more than the declared length: the response is broken
      co_return false;
    }
    res_->body().data = const_cast<uint8_t*>(data.data());
    res_->body().size = data.size();
    res_->body().more = true;
    conn_.stream.expires_after(cfg_.ioTimeout);
    auto [ec, n] = co_await bhttp::async_write(conn_.stream, *sr_, kTuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      broken_ = true;
      co_return false;
    }
    bodyWritten_ += data.size();
    bytesOut_ += data.size();
    co_return true;
  }

  asio::awaitable<bool> finish() override {
    if (broken_) co_return false;
    if (noBody_) {
      complete_ = true;
      co_return true;
    }
    if (contentLength_ && bodyWritten_ != *contentLength_) {
      abort();
      co_return false;
    }
    res_->body().data = nullptr;
    res_->body().size = 0;
    res_->body().more = false;
    conn_.stream.expires_after(cfg_.ioTimeout);
    auto [ec, n] = co_await bhttp::async_write(conn_.stream, *sr_, kTuple);
    if (ec) {
      broken_ = true;
      co_return false;
    }
    bytesOut_ += n;
    complete_ = true;
    co_return true;
  }

  void abort() override {
    broken_ = true;
    conn_.shutdown();
  }
  bool headSent() const override { return headSent_; }
  int responseStatus() const override { return headSent_ ? status_ : 0; }
  void annotate(std::string key, std::string value) override { notes_[std::move(key)] = std::move(value); }
  void adoptOrigin(std::string requestId, std::string remote) override {
    req_.requestId = std::move(requestId);
    req_.remote = std::move(remote);
  }
  bool stopping() const override { return conn_.srv.stopping; }

  // The request body failed in a way that is the client's fault: its
  // answer, instead of whatever the handler would have said.
  const std::optional<Refusal>& refusal() const { return refusal_; }
  asio::awaitable<bool> writeRefusal() {
    const Refusal r = *refusal_;
    keepAlive_ = false;
    notes_["error"] = r.reason;
    notes_["detail"] = r.detail;
    const std::string body = refusalBody(r, req_.requestId);
    const std::vector<Header> headers = {{"content-type", "application/json"}, {"fn0-error", r.reason}};
    refusal_.reset();  // write it as an ordinary response, once
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    const bool ok = co_await writeWhole(r.status, headers, bytes);
    refusal_ = r;
    broken_ = true;  // whatever the handler writes after this goes nowhere
    co_return ok;
  }

  bool bodyUnread() const { return !bodyDone_ && !broken_; }
  bool reusable() const {
    return keepAlive_ && complete_ && !broken_ && bodyDone_ && !bodyCancelled_ && !refusal_;
  }
  AccessRecord record(Clock::time_point start) const {
    AccessRecord r{req_.requestId, req_.remote, req_.method, req_.target, req_.host, status_, bytesIn_, bytesOut_,
                   std::chrono::duration<double, std::milli>(Clock::now() - start).count(), notes_};
    if (broken_ && !refusal_) r.notes["aborted"] = "true";
    if (!cfg_.nodeId.empty()) r.notes.emplace("node", cfg_.nodeId);  // unless it ran on a peer
    if (refusal_) {
      if (!headSent_) r.status = refusal_->status;  // else the response was cut off
      r.notes["error"] = refusal_->reason;
      r.notes["detail"] = refusal_->detail;
    }
    return r;
  }

 private:
  // When the next body bytes must have arrived: within ioTimeout of this
  // read, and on average at bodyMinRate once bodyGrace is over.
  Clock::time_point bodyDeadline() const {
    auto deadline = Clock::now() + cfg_.ioTimeout;
    if (cfg_.bodyMinRate > 0) {
      const double seconds = static_cast<double>(bytesIn_ + 1) / static_cast<double>(cfg_.bodyMinRate);
      const auto allowance = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
          std::min(seconds, 1e9)));
      deadline = std::min(deadline, bodyStart_ + cfg_.bodyGrace + allowance);
    }
    return deadline;
  }

  void bodyFailed(const beast::error_code& ec) {
    const bool cancelled = bodyCancelled_;
    bodyCancelled_ = true;
    if (cancelled && ec == asio::error::operation_aborted) return;  // the handler stopped reading
    if (ec == beast::error::timeout) {
      conn_.srv.counters.bodyTimeouts++;
      refusal_ = Refusal{408, "request-timeout",
                         "the request body arrived too slowly (this node needs " + std::to_string(cfg_.bodyMinRate) +
                             " bytes/s on average after the first " + std::to_string(cfg_.bodyGrace.count()) + " s)"};
    } else if (ec == bhttp::error::partial_message || ec == asio::error::eof || ec == bhttp::error::end_of_stream) {
      refusal_ = Refusal{400, "bad-request", "the request body ended early"};
    } else if (!clientGone(ec)) {
      refusal_ = refusalFor(ec, cfg_);
    }
    // Never let a guest's answer to a broken body pass as complete.
    if (refusal_ && headSent_) abort();
  }

  // The response head, not yet written.
  void prepareHead(int status, const std::vector<Header>& headers, std::optional<uint64_t> contentLength) {
    res_.emplace();
    res_->result(static_cast<unsigned>(status));
    res_->version(11);
    for (const auto& [k, v] : headers) res_->insert(k, v);
    res_->set("fn0-request-id", req_.requestId);
    // A relayed response keeps the fn0-node of the peer that ran it.
    if (!cfg_.nodeId.empty() && res_->find("fn0-node") == res_->end()) res_->set("fn0-node", cfg_.nodeId);
    noBody_ = status == 204 || status == 304 || status < 200 || req_.method == "HEAD";
    if (!(status == 204 || status == 304 || status < 200)) {
      if (contentLength)
        res_->content_length(*contentLength);
      else if (req_.method != "HEAD")
        res_->chunked(true);
    }
    contentLength_ = contentLength;
    res_->keep_alive(keepAlive_);
    status_ = status;
    headSent_ = true;
  }

  Conn& conn_;
  RequestParser& parser_;
  Request req_;
  const ServerConfig& cfg_;
  bool keepAlive_;
  std::optional<bhttp::response<bhttp::buffer_body>> res_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> sr_;
  std::optional<uint64_t> contentLength_;
  std::optional<Refusal> refusal_;
  Clock::time_point bodyStart_{};
  uint64_t bodyWritten_ = 0, bytesIn_ = 0, bytesOut_ = 0;
  int status_ = 0;
  bool headSent_ = false, noBody_ = false, complete_ = false, broken_ = false;
  bool bodyDone_ = false, bodyCancelled_ = false, expectContinue_ = false, bodyStarted_ = false;
  std::map<std::string, std::string> notes_;
};

// Closes a connection whose client may still be sending a body we will not
// read: stop sending, drain what arrives for a moment, then close. Closing at
// once would reset the connection before the client reads our answer.
asio::awaitable<void> lingeringClose(Conn& c) {
  beast::error_code ec;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::vector<char> sink(64 * 1024);
  size_t drained = 0;
  const auto lingerBuf = asio::buffer(sink);
  c.stream.expires_after(std::chrono::seconds(2));
  while (drained < (16u << 20)) {
    auto [rec, n] = co_await c.stream.async_read_some(lingerBuf, kTuple);
    if (rec) break;
    drained += n;
  }
}

// A response for a request the HTTP layer refuses before any handler runs.
asio::awaitable<void> refuse(Conn& c, const Refusal& r, const std::string& id) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set("content-type", "application/json");
  res.set("fn0-error", r.reason);
  res.set("fn0-request-id", id);
  if (retryHelps(r.reason)) res.set("retry-after", "1");
  res.keep_alive(false);
  res.body() = refusalBody(r, id);
  res.prepare_payload();
  c.stream.expires_after(std::chrono::seconds(10));
  co_await bhttp::async_write(c.stream, res, kTuple);
  co_await lingeringClose(c);
}

std::vector<Header> internalErrorHeaders() {
  return {{"content-type", "application/json"}, {"fn0-error", "internal"}};
}
std::string internalErrorBody() { return "{\"error\":\"internal\"}\n"; }

}  // namespace

bool retryHelps(std::string_view reason) {
  return reason == "overloaded" || reason == "too-many-connections" || reason == "shutting-down" ||
         reason == "store-unavailable" || reason == "registry-unavailable";
}

asio::awaitable<bool> respond(Exchange& ex, int status, std::vector<Header> headers, std::string body) {
  // Only named values in co_await expressions: g++ 12 miscompiles some
  // temporaries there (see docs/toolchain-notes in the README).
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  co_return co_await ex.writeWhole(status, headers, bytes);
}

Conn::Conn(Server::Impl& s, tcp::socket sock, std::string clientAddress, bool ok)
    : srv(s),
      stream(std::move(sock)),
      // A head may use the whole header limit; one more read's worth lets
      // the parser see where it ends. Trailers are bounded the same way.
      buffer(static_cast<size_t>(std::min<uint64_t>(s.cfg.maxHeaderBytes, UINT32_MAX)) + 64 * 1024),
      client(std::move(clientAddress)),
      admitted(ok) {
  beast::error_code ec;
  auto ep = stream.socket().remote_endpoint(ec);
  if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  // Beast reads at most the buffer's free capacity per call: without room,
  // a body arrives in 512-byte pieces, each a trip through the guest.
  buffer.reserve(64 * 1024);
}

Conn::~Conn() {
  if (admitted) srv.releaseClient(client);
}

asio::awaitable<HeadResult> Conn::readHead(RequestParser& parser, bool first) {
  const auto& cfg = srv.cfg;
  HeadResult out;
  // The idle (keep-alive) wait ends with the first byte of the next
  // request; from then on the whole head must arrive within headerTimeout,
  // on every request of the connection, not only the first.
  std::optional<Clock::time_point> firstByte;
  size_t searched = 0;
  for (;;) {
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    while (buffer.size() >= 2 && std::string_view(static_cast<const char*>(buffer.data().data()), 2) == "\r\n") {
      buffer.consume(2);
      searched = 0;
    }
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!bytes.empty() && !firstByte) firstByte = Clock::now();
    const size_t from = searched > 3 ? searched - 3 : 0;
    const size_t end = findHeadEnd(bytes.substr(from));
    if (end != std::string_view::npos) {
      const std::string_view head = bytes.substr(0, from + end);
      if (head.size() > cfg.maxHeaderBytes) {
        out.kind = HeadResult::Refused;
        out.refusal = headersTooLarge(cfg);
        co_return out;
      }
      if (auto r = scanRawHead(head)) {
        out.kind = HeadResult::Refused;
        out.refusal = *r;
        co_return out;
      }
      beast::error_code ec;
      size_t used = 0;
      try {
        used = parser.put(asio::buffer(head.data(), head.size()), ec);
      } catch (const std::exception& e) {
        ec = bhttp::error::bad_value;
      }
      if (!ec && !parser.is_header_done()) ec = bhttp::error::bad_value;
      if (ec) {
        out.kind = HeadResult::Refused;
        out.refusal = refusalFor(ec, cfg);
        co_return out;
      }
      buffer.consume(used);
      if (auto r = checkFraming(parser.get().base())) {
        out.kind = HeadResult::Refused;
        out.refusal = *r;
        co_return out;
      }
      out.kind = HeadResult::Ok;
      co_return out;
    }
    searched = bytes.size();
    if (!plausibleRequestStart(bytes)) {
      out.kind = HeadResult::Refused;
      out.refusal = {400, "bad-request", "not an HTTP/1.1 request"};
      co_return out;
    }
    if (bytes.size() > cfg.maxHeaderBytes) {
      out.kind = HeadResult::Refused;
      out.refusal = headersTooLarge(cfg);
      co_return out;
    }
    const size_t room = std::min<size_t>(64 * 1024, buffer.max_size() - buffer.size());
    if (room == 0) {
      out.kind = HeadResult::Refused;
      out.refusal = headersTooLarge(cfg);
      co_return out;
    }
    if (firstByte)
      stream.expires_at(*firstByte + cfg.headerTimeout);
    else
      stream.expires_after(first ? cfg.headerTimeout : cfg.idleTimeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), kTuple);
    if (ec) {
      // A client that started a head and stalled is counted; an idle
      // keep-alive connection that ends is not news.
      if (ec == beast::error::timeout && firstByte) srv.counters.headTimeouts++;
      out.kind = HeadResult::Closed;
      if (firstByte && !clientGone(ec) && ec != beast::error::timeout) {
        out.kind = HeadResult::Refused;
        out.refusal = refusalFor(ec, cfg);
      }
      co_return out;
    }
    buffer.commit(n);
  }
}

asio::awaitable<void> Conn::serve() {
  const auto& cfg = srv.cfg;
  if (!admitted) {
    srv.counters.refusedClients++;
    const Refusal r{429, "too-many-connections",
                    "this client address has too many open connections (this node allows " +
                        std::to_string(cfg.maxConnectionsPerClient) + "); retry after closing some"};
    const std::string id = newRequestId();
    co_await refuse(*this, r, id);
    shutdown();
    co_return;
  }
  bool first = true;
  for (;;) {
    if (srv.stopping) break;
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<uint64_t>(cfg.maxHeaderBytes, UINT32_MAX)));
    parser.body_limit(cfg.maxBodyBytes);
    idle = true;
    HeadResult head = co_await readHead(parser, first);
    idle = false;
    first = false;
    const auto start = Clock::now();
    if (head.kind == HeadResult::Closed) break;
    if (head.kind == HeadResult::Refused) {
      srv.counters.badRequests++;
      const std::string id = newRequestId();
      co_await refuse(*this, head.refusal, id);
      AccessRecord r;
      r.requestId = id;
      r.remote = remote;
      r.status = head.refusal.status;
      r.notes["error"] = head.refusal.reason;
      r.notes["detail"] = head.refusal.detail;
      srv.log.write(r);
      break;
    }
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.host = std::string(msg[bhttp::field::host]);
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (auto cl = parser.content_length()) req.contentLength = *cl;
    req.chunked = parser.chunked();
    req.requestId = newRequestId();
    req.remote = remote;
    const bool keepAlive = parser.keep_alive() && !srv.stopping;

    ExchangeImpl ex(*this, parser, std::move(req), cfg, keepAlive);
    // (Locals, not literals, in co_await expressions: g++ 12 miscompiles
    // string literals there.)
    const std::vector<Header> internalHeaders = internalErrorHeaders();
    const std::string internalBody = internalErrorBody();
    bool failed = false;
    try {
      co_await srv.handler(ex);
    } catch (const std::exception& e) {
      ex.annotate("exception", e.what());
      failed = true;
    } catch (...) {
      ex.annotate("exception", "unknown");
      failed = true;
    }
    if (failed) srv.counters.connectionFailures++;
    if (!ex.headSent() && ex.refusal())
      co_await ex.writeRefusal();
    else if (!ex.headSent())
      co_await respond(ex, 500, internalHeaders, internalBody);
    else if (failed)
      ex.abort();
    srv.log.write(ex.record(start));
    if (!ex.reusable()) {
      if (ex.bodyUnread() || ex.refusal()) co_await lingeringClose(*this);
      break;
    }
  }
  shutdown();
}

}  // namespace fn0::http
