#include "cluster/peers.h"

#include <strings.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/sha256.h"

namespace fn0::cluster {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kConnectTimeout = std::chrono::seconds(1);
// Shorter than a peer's keep-alive idle timeout (--idle-timeout-s, 60 s by
// default), so a pooled connection is dropped here before the peer drops it.
constexpr auto kKeepIdle = std::chrono::seconds(20);
constexpr size_t kMaxIdlePerPeer = 64;
constexpr size_t kPiece = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool startsWithFn0(std::string_view name) { return name.size() >= 4 && strncasecmp(name.data(), "fn0-", 4) == 0; }

// Hop-by-hop and framing headers are the hop's own; fn0-* from a client is
// never trusted (this node writes its own).
bool dropFromRequest(std::string_view n) {
  for (const char* h : {"host", "connection", "keep-alive", "te", "transfer-encoding", "upgrade", "proxy-connection",
                        "trailer", "expect", "content-length"})
    if (iequals(n, h)) return true;
  return startsWithFn0(n);
}

bool dropFromResponse(std::string_view n) {
  for (const char* h : {"connection", "keep-alive", "transfer-encoding", "content-length", "trailer", "upgrade",
                        "proxy-connection", "fn0-request-id"})
    if (iequals(n, h)) return true;
  return false;
}

const void* contextOf(const asio::any_io_executor& ex) { return &asio::query(ex, asio::execution::context); }

bool overloaded(const bhttp::response_parser<bhttp::buffer_body>& p) {
  return p.get().result_int() == 503 && p.get()["fn0-error"] == "overloaded";
}

// A read that failed on a kept-alive connection before a single byte came
// back: the peer closed it while it sat in the pool. Safe to send again.
bool stale(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

}  // namespace

std::string forwardToken(const std::string& clusterKey) { return hmacSha256Hex(clusterKey, "fn0 forward v1"); }

std::string PeerReply::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

struct Peers::Conn {
  explicit Conn(const asio::any_io_executor& ex) : stream(ex), context(contextOf(ex)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  const void* context;
  Clock::time_point idleSince{};
};

class Peers::Inflight {
 public:
  Inflight(Peers& p, const std::string& address) : p_(p), address_(address) {
    std::lock_guard lock(p_.mu_);
    p_.inflight_[address_]++;
  }
  ~Inflight() {
    std::lock_guard lock(p_.mu_);
    if (--p_.inflight_[address_] == 0) p_.inflight_.erase(address_);
  }

 private:
  Peers& p_;
  std::string address_;
};

Peers::Peers(std::string selfId, std::string token, std::chrono::milliseconds waitForAnswer)
    : self_(std::move(selfId)), token_(std::move(token)), wait_(waitForAnswer) {}

Peers::~Peers() { close(); }

void Peers::close() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

uint32_t Peers::inflight(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = inflight_.find(address);
  return it == inflight_.end() ? 0 : it->second;
}

Peers::Stats Peers::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::unique_ptr<Peers::Conn> Peers::take(const asio::any_io_executor& ex, const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = idle_.find({contextOf(ex), address});
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    auto c = std::move(list.back());
    list.pop_back();
    if (Clock::now() - c->idleSince < kKeepIdle) {
      stats_.reused++;
      return c;
    }
  }
  return nullptr;
}

void Peers::giveBack(const std::string& address, std::unique_ptr<Conn> c) {
  c->idleSince = Clock::now();
  c->stream.expires_never();
  std::lock_guard lock(mu_);
  auto& list = idle_[{c->context, address}];
  if (list.size() < kMaxIdlePerPeer) list.push_back(std::move(c));
}

asio::awaitable<std::unique_ptr<Peers::Conn>> Peers::open(const std::string& address, std::string& error) {
  auto ex = co_await asio::this_coro::executor;
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    error = "peer address '" + address + "' is not HOST:PORT";
    co_return nullptr;
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = address.substr(colon + 1);
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host, port, kTuple);
  if (rec) {
    error = "cannot resolve " + address + ": " + rec.message();
    co_return nullptr;
  }
  auto c = std::make_unique<Conn>(ex);
  c->stream.expires_after(kConnectTimeout);
  auto [cec, ep] = co_await c->stream.async_connect(results, kTuple);
  if (cec) {
    error = "cannot connect to " + address + ": " + cec.message();
    co_return nullptr;
  }
  beast::error_code ignored;
  c->stream.socket().set_option(tcp::no_delay(true), ignored);
  {
    std::lock_guard lock(mu_);
    stats_.connects++;
  }
  co_return c;
}

namespace {

// What one forward did, shared by its two halves (request body out,
// response in) on the connection's thread.
struct Duplex {
  bool bodySent = false;     // the whole request body reached the peer
  bool bodyTouched = false;  // some of the client's body was read
  bool bodyBroke = false;    // the client's body failed (the exchange answers it)
  bool answered = false;     // the response half is over
};

std::string requestHead(const http::Request& req, const std::string& self, const std::string& token,
                        const std::vector<http::Header>& extra, bool hasBody, bool chunked) {
  std::string h = req.method + " " + req.target + " HTTP/1.1\r\nhost: " + req.host + "\r\n";
  for (const auto& [k, v] : req.headers)
    if (!dropFromRequest(k)) h += k + ": " + v + "\r\n";
  h += std::string(kForwardedHeader) + ": " + token + "\r\n";
  h += std::string(kForwardedByHeader) + ": " + self + "\r\n";
  h += "fn0-request-id: " + req.requestId + "\r\n";
  h += std::string(kClientHeader) + ": " + req.remote + "\r\n";
  for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
  if (hasBody) {
    h += chunked ? "transfer-encoding: chunked\r\n" : "content-length: " + std::to_string(*req.contentLength) + "\r\n";
    // The body goes only once the peer has admitted the request (100
    // Continue): a peer that is full answers 503 first, and the body is
    // still here for the next one.
    h += "expect: 100-continue\r\n";
  } else if (req.contentLength) {
    h += "content-length: " + std::to_string(*req.contentLength) + "\r\n";
  }
  return h + "\r\n";
}

// Client body → peer, until it ends; the response half cancels it when the
// peer has answered without wanting the rest.
asio::awaitable<void> pumpBody(http::Exchange& ex, beast::tcp_stream& stream, bool chunked,
                               std::chrono::milliseconds wait, Duplex& d) {
  for (;;) {
    auto piece = co_await ex.readBody();
    if (piece.kind == http::BodyPiece::End) {
      if (chunked) {
        stream.expires_after(wait);
        const std::string last = "0\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(last), kTuple);
        if (ec) co_return;
      }
      d.bodySent = true;
      co_return;
    }
    if (piece.kind != http::BodyPiece::Data) {
      beast::error_code ignored;
      d.bodyBroke = true;
      if (!d.answered) stream.socket().cancel(ignored);  // the exchange answers with its refusal
      co_return;
    }
    d.bodyTouched = true;
    stream.expires_after(wait);
    if (chunked) {
      char size[24];
      const int len = std::snprintf(size, sizeof size, "%zx\r\n", piece.data.size());
      const std::array<asio::const_buffer, 3> bufs{asio::buffer(size, static_cast<size_t>(len)),
                                                   asio::buffer(piece.data.data(), piece.data.size()),
                                                   asio::buffer("\r\n", 2)};
      auto [ec, n] = co_await asio::async_write(stream, bufs, kTuple);
      if (ec) {
        ex.cancelBody();
        co_return;
      }
    } else {
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(piece.data.data(), piece.data.size()), kTuple);
      if (ec) {
        ex.cancelBody();
        co_return;
      }
    }
  }
}

}  // namespace

// The peer's response → the client. Returns whether the connection can go
// back to the pool.
static asio::awaitable<bool> relay(http::Exchange& ex, Peers::Conn& c, bhttp::response_parser<bhttp::buffer_body>& p,
                                   std::chrono::milliseconds wait) {
  std::vector<http::Header> headers;
  for (const auto& f : p.get())
    if (!dropFromResponse(f.name_string())) headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  std::optional<uint64_t> length;
  if (!p.chunked() && p.content_length()) length = *p.content_length();
  const std::string node(p.get()[kNodeHeader]);
  if (!node.empty()) ex.annotate("node", node);
  const int status = p.get().result_int();
  if (p.is_done() && length) {
    // No body to stream (or an empty one): one write.
    const std::span<const uint8_t> none;
    if (*length == 0) {
      co_await ex.writeWhole(status, headers, none);
      co_return p.keep_alive();
    }
  }
  if (!co_await ex.writeHead(status, headers, length)) co_return false;
  std::vector<uint8_t> buf(kPiece);
  while (!p.is_done()) {
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    c.stream.expires_after(wait);
    auto [ec, n] = co_await bhttp::async_read_some(c.stream, c.buffer, p, kTuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    const size_t got = buf.size() - p.get().body().size;
    if (got > 0) {
      const std::span<const uint8_t> piece(buf.data(), got);
      if (!co_await ex.writeBody(piece)) co_return false;  // the client went away
    }
    if (ec) {
      ex.abort();  // the peer broke off: so does this response
      co_return false;
    }
  }
  co_return (co_await ex.finish()) && p.keep_alive();
}

namespace {
using Parser = bhttp::response_parser<bhttp::buffer_body>;

void prepare(Parser& p, const http::Request& req) {
  p.body_limit(boost::none);  // the peer applied the limits; this only relays
  p.header_limit(1u << 20);
  if (req.method == "HEAD") p.skip(true);
}
}  // namespace

asio::awaitable<Forwarded> Peers::forward(http::Exchange& ex, const std::string& address,
                                          std::vector<http::Header> extra) {
  Inflight counted(*this, address);
  const auto& req = ex.request();
  const bool hasBody = !ex.bodyDone();
  const bool chunked = hasBody && !req.contentLength;
  const std::string head = requestHead(req, self_, token_, extra, hasBody, chunked);
  const auto home = co_await asio::this_coro::executor;
  for (int attempt = 0; attempt < 2; attempt++) {
    auto c = take(home, address);
    const bool reused = c != nullptr;
    if (!c) {
      std::string error;
      c = co_await open(address, error);
      if (!c) {
        ex.annotate("forward_error", error);
        co_return Forwarded::Unreachable;
      }
    }
    c->stream.expires_after(wait_);
    auto [wec, wn] = co_await asio::async_write(c->stream, asio::buffer(head), kTuple);
    if (wec) {
      if (reused) continue;
      ex.annotate("forward_error", "write: " + wec.message());
      co_return Forwarded::Unreachable;
    }
    auto first = std::make_unique<Parser>();
    prepare(*first, req);
    c->stream.expires_after(wait_);
    auto [hec, hn] = co_await bhttp::async_read_header(c->stream, c->buffer, *first, kTuple);
    if (hec) {
      if (reused && stale(hec)) continue;
      ex.annotate("forward_error", "no answer: " + hec.message());
      co_return Forwarded::Unreachable;
    }
    if (first->get().result_int() != 100) {
      // Answered before asking for the body (or there is none).
      if (overloaded(*first)) co_return Forwarded::Rejected;
      const bool keep = co_await relay(ex, *c, *first, wait_);
      if (keep && !hasBody) giveBack(address, std::move(c));
      co_return Forwarded::Done;
    }
    if (!hasBody) {
      ex.annotate("forward_error", "100 Continue without a body");
      co_return Forwarded::Unreachable;
    }
    // Admitted: the body goes out while the answer comes back (a guest may
    // stream its response before it has read the whole request).
    Duplex d;
    bool keep = false;
    Forwarded result = Forwarded::Done;
    auto answer = [&]() -> asio::awaitable<void> {
      Parser p;
      prepare(p, req);
      c->stream.expires_after(wait_);
      auto [ec, n] = co_await bhttp::async_read_header(c->stream, c->buffer, p, kTuple);
      if (ec) {
        d.answered = true;
        if (!d.bodySent && !d.bodyBroke) ex.cancelBody();
        result = d.bodyTouched || d.bodyBroke ? Forwarded::Failed : Forwarded::Unreachable;
        if (!d.bodyBroke) ex.annotate("forward_error", "no answer: " + ec.message());
        co_return;
      }
      keep = co_await relay(ex, *c, p, wait_);
      d.answered = true;
      if (!d.bodySent) {
        // The peer is done without the rest of the body: stop sending it.
        keep = false;
        ex.cancelBody();
        beast::error_code ignored;
        c->stream.socket().cancel(ignored);
      }
    };
    auto a = answer();
    auto b = pumpBody(ex, c->stream, chunked, wait_, d);
    co_await (std::move(a) && std::move(b));
    if (keep && d.bodySent) giveBack(address, std::move(c));
    co_return result;
  }
  co_return Forwarded::Unreachable;
}

asio::awaitable<Result<PeerReply>> Peers::get(const std::string& address, const std::string& target,
                                              std::vector<http::Header> headers, size_t maxBody,
                                              const std::string& method) {
  std::string head = method + " " + target + " HTTP/1.1\r\nhost: " + address + "\r\n";
  if (method != "GET") head += "content-length: 0\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  head += std::string(kForwardedHeader) + ": " + token_ + "\r\n";
  head += std::string(kForwardedByHeader) + ": " + self_ + "\r\n\r\n";
  const auto home = co_await asio::this_coro::executor;
  for (int attempt = 0; attempt < 2; attempt++) {
    auto c = take(home, address);
    const bool reused = c != nullptr;
    if (!c) {
      std::string error;
      c = co_await open(address, error);
      if (!c) co_return Error{error};
    }
    c->stream.expires_after(wait_);
    auto [wec, wn] = co_await asio::async_write(c->stream, asio::buffer(head), kTuple);
    if (wec) {
      if (reused) continue;
      co_return Error{"write to " + address + ": " + wec.message()};
    }
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(maxBody);
    c->stream.expires_after(wait_);
    auto [rec, rn] = co_await bhttp::async_read(c->stream, c->buffer, p, kTuple);
    if (rec) {
      if (reused && stale(rec)) continue;
      co_return Error{"read from " + address + ": " + rec.message()};
    }
    PeerReply r;
    r.status = p.get().result_int();
    for (const auto& f : p.get()) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(p.get().body());
    if (p.keep_alive()) giveBack(address, std::move(c));
    co_return r;
  }
  co_return Error{"no answer from " + address};
}

}  // namespace fn0::cluster
