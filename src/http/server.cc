#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <random>

namespace fn0::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string newRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

bool quietEnd(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == bhttp::error::partial_message;
}

}  // namespace

struct Conn;

struct Server::Impl {
  Impl(ServerConfig c, Handler h, AccessLog& l) : cfg(std::move(c)), handler(std::move(h)), log(l) {}
  ServerConfig cfg;
  Handler handler;
  AccessLog& log;
  // One io_context per I/O thread, each run by its thread alone: a
  // connection lives on one of them, so its handlers need no strand and
  // never hop threads. The first also runs the acceptor and the drain timer.
  std::vector<std::unique_ptr<asio::io_context>> ios = makeContexts(cfg.threads);
  asio::io_context& io = *ios[0];
  tcp::acceptor acceptor{io};
  asio::steady_timer drain{io};
  // Keep the other threads' contexts running while they have no connection.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idleGuards;
  std::mutex guardMu;
  size_t nextContext = 0;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> active{0};
  std::mutex connMu;
  std::list<std::weak_ptr<Conn>> conns;

  asio::awaitable<void> acceptLoop();
  void connectionEnded();
  void releaseThreads() {
    std::lock_guard lock(guardMu);
    for (auto& g : idleGuards) g.reset();
  }
  static std::vector<std::unique_ptr<asio::io_context>> makeContexts(unsigned threads) {
    unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (unsigned i = 0; i < n; i++) v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }
};

struct Conn : std::enable_shared_from_this<Conn> {
  Conn(Server::Impl& s, tcp::socket sock) : srv(s), stream(std::move(sock)) {
    beast::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    // Beast reads at most the buffer's free capacity per call: without room,
    // a body arrives in 512-byte pieces, each a trip through the guest.
    buffer.reserve(64 * 1024);
  }
  Server::Impl& srv;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::atomic<bool> idle{true};
  std::string remote;

  // Request body pieces land here, one connection-wide buffer allocated on
  // the first body (not per request, and never zeroed: a GET costs nothing).
  static constexpr size_t kBodyBufferBytes = 64 * 1024;
  uint8_t* bodyBuffer() {
    if (!body) body.reset(new uint8_t[kBodyBufferBytes]);
    return body.get();
  }
  std::unique_ptr<uint8_t[]> body;

  void closeIfIdle() {
    asio::post(stream.get_executor(), [self = shared_from_this()] {
      if (self->idle) self->stream.cancel();
    });
  }
  void shutdown() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }
  asio::awaitable<void> serve();
};

namespace {

class ExchangeImpl : public Exchange {
 public:
  ExchangeImpl(Conn& c, bhttp::request_parser<bhttp::buffer_body>& p, Request req, const ServerConfig& cfg,
               bool keepAlive)
      : conn_(c), parser_(p), req_(std::move(req)), cfg_(cfg), keepAlive_(keepAlive) {
    bodyDone_ = parser_.is_done();
    auto expect = parser_.get()[bhttp::field::expect];
    expectContinue_ = beast::iequals(expect, "100-continue");
  }

  const Request& request() const override { return req_; }

  asio::awaitable<BodyPiece> readBody() override {
    if (bodyCancelled_ || broken_) co_return BodyPiece{BodyPiece::Failed, {}};
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
      conn_.stream.expires_after(cfg_.ioTimeout);
      auto [ec, n] = co_await bhttp::async_read_some(conn_.stream, conn_.buffer, parser_, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) {
        bodyCancelled_ = true;
        co_return BodyPiece{BodyPiece::TooLarge, {}};
      }
      if (ec || bodyCancelled_) {
        bodyCancelled_ = true;
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
    conn_.stream.socket().cancel();
  }
  bool bodyDone() const override { return bodyDone_; }

  asio::awaitable<bool> writeHead(int status, const std::vector<Header>& headers,
                                  std::optional<uint64_t> contentLength) override {
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

  // The response head, not yet written.
  void prepareHead(int status, const std::vector<Header>& headers, std::optional<uint64_t> contentLength) {
    res_.emplace();
    res_->result(static_cast<unsigned>(status));
    res_->version(11);
    for (const auto& [k, v] : headers) res_->insert(k, v);
    res_->set("fn0-request-id", req_.requestId);
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
  void annotate(std::string key, std::string value) override { notes_[std::move(key)] = std::move(value); }
  bool stopping() const override { return conn_.srv.stopping; }

  bool bodyUnread() const { return !bodyDone_ && !broken_; }
  bool reusable() const { return keepAlive_ && complete_ && !broken_ && bodyDone_ && !bodyCancelled_; }
  AccessRecord record(Clock::time_point start) const {
    AccessRecord r{req_.requestId, req_.remote, req_.method, req_.target, req_.host, status_, bytesIn_, bytesOut_,
                   std::chrono::duration<double, std::milli>(Clock::now() - start).count(), notes_};
    if (broken_) r.notes["aborted"] = "true";
    return r;
  }

 private:
  Conn& conn_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  Request req_;
  const ServerConfig& cfg_;
  bool keepAlive_;
  std::optional<bhttp::response<bhttp::buffer_body>> res_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> sr_;
  std::optional<uint64_t> contentLength_;
  uint64_t bodyWritten_ = 0, bytesIn_ = 0, bytesOut_ = 0;
  int status_ = 0;
  bool headSent_ = false, noBody_ = false, complete_ = false, broken_ = false;
  bool bodyDone_ = false, bodyCancelled_ = false, expectContinue_ = false;
  std::map<std::string, std::string> notes_;
};

std::vector<Header> internalErrorHeaders() {
  return {{"content-type", "application/json"}, {"fn0-error", "internal"}};
}
std::string internalErrorBody() { return "{\"error\":\"internal\"}\n"; }

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
asio::awaitable<void> refuse(Conn& c, int status, const std::string& reason, const std::string& id) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set("content-type", "application/json");
  res.set("fn0-error", reason);
  res.set("fn0-request-id", id);
  res.keep_alive(false);
  res.body() = "{\"error\":\"" + reason + "\",\"request_id\":\"" + id + "\"}\n";
  res.prepare_payload();
  c.stream.expires_after(std::chrono::seconds(10));
  co_await bhttp::async_write(c.stream, res, kTuple);
  co_await lingeringClose(c);
}

}  // namespace

asio::awaitable<bool> respond(Exchange& ex, int status, std::vector<Header> headers, std::string body) {
  // Only named values in co_await expressions: g++ 12 miscompiles some
  // temporaries there (see docs/toolchain-notes in the README).
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  co_return co_await ex.writeWhole(status, headers, bytes);
}

asio::awaitable<void> Conn::serve() {
  const auto& cfg = srv.cfg;
  bool first = true;
  for (;;) {
    if (srv.stopping) break;
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<uint64_t>(cfg.maxHeaderBytes, UINT32_MAX)));
    parser.body_limit(cfg.maxBodyBytes);
    idle = true;
    stream.expires_after(first ? cfg.headerTimeout : cfg.idleTimeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    idle = false;
    first = false;
    const auto start = Clock::now();
    if (ec) {
      if (quietEnd(ec) && !(ec == bhttp::error::partial_message && buffer.size() > 0)) break;
      int status = ec == bhttp::error::header_limit ? 431 : ec == bhttp::error::body_limit ? 413 : 400;
      std::string reason = status == 431 ? "headers-too-large" : status == 413 ? "body-too-large" : "bad-request";
      std::string id = newRequestId();
      co_await refuse(*this, status, reason, id);
      AccessRecord r;
      r.requestId = id;
      r.remote = remote;
      r.status = status;
      r.notes["error"] = reason;
      r.notes["detail"] = ec.message();
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
    }
    if (!ex.headSent())
      co_await respond(ex, 500, internalHeaders, internalBody);
    else if (failed)
      ex.abort();
    srv.log.write(ex.record(start));
    if (!ex.reusable()) {
      if (ex.bodyUnread()) co_await lingeringClose(*this);
      break;
    }
  }
  shutdown();
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  for (;;) {
    // Round robin over the I/O threads (the accept loop runs on one thread).
    auto& home = *ios[nextContext++ % ios.size()];
    auto [ec, sock] = co_await acceptor.async_accept(home, kTuple);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    beast::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Conn>(*this, std::move(sock));
    {
      std::lock_guard lock(connMu);
      conns.remove_if([](const auto& w) { return w.expired(); });
      conns.push_back(conn);
    }
    active++;
    asio::co_spawn(conn->stream.get_executor(), [conn]() -> asio::awaitable<void> { co_await conn->serve(); },
                   [this](std::exception_ptr) { connectionEnded(); });
  }
}

void Server::Impl::connectionEnded() {
  if (--active == 0 && stopping) {
    asio::post(io, [this] { drain.cancel(); });
    releaseThreads();
  }
}

Server::Server(ServerConfig config, Handler handler, AccessLog& log)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler), log)) {}

Server::~Server() = default;

Result<uint16_t> Server::listen() {
  try {
    tcp::endpoint ep(asio::ip::make_address(impl_->cfg.host), impl_->cfg.port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    return impl_->acceptor.local_endpoint().port();
  } catch (const std::exception& e) {
    return Error{"cannot listen on " + impl_->cfg.host + ":" + std::to_string(impl_->cfg.port) + ": " + e.what()};
  }
}

void Server::run() {
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->guardMu);
    for (size_t i = 1; i < impl_->ios.size(); i++) impl_->idleGuards.push_back(asio::make_work_guard(*impl_->ios[i]));
  }
  if (impl_->stopping && impl_->active == 0) impl_->releaseThreads();
  for (size_t i = 1; i < impl_->ios.size(); i++) threads.emplace_back([this, i] { impl_->ios[i]->run(); });
  impl_->io.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  asio::post(impl_->io, [this] {
    if (impl_->stopping.exchange(true)) return;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    std::vector<std::shared_ptr<Conn>> live;
    {
      std::lock_guard lock(impl_->connMu);
      for (auto& w : impl_->conns)
        if (auto c = w.lock()) live.push_back(c);
    }
    for (auto& c : live) c->closeIfIdle();
    // In-flight requests get drainTimeout to finish; then everything stops.
    if (impl_->active == 0) {
      impl_->releaseThreads();
      return;
    }
    impl_->drain.expires_after(impl_->cfg.drainTimeout);
    impl_->drain.async_wait([this](beast::error_code e) {
      if (e) return;
      for (auto& io : impl_->ios) io->stop();
    });
  });
}

uint64_t Server::activeConnections() const { return impl_->active; }
asio::any_io_executor Server::executor() { return impl_->io.get_executor(); }

}  // namespace fn0::http
