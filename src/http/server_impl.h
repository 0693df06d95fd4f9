// The server's insides, shared by the listener (server.cc) and the
// connections (connection.cc). Not part of the http/ interface.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <unordered_map>

#include "http/request_head.h"
#include "http/request_parser.h"
#include "http/server.h"

namespace fn0::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

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
  asio::steady_timer acceptPause{io};
  // Keep the other threads' contexts running while they have no connection.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idleGuards;
  std::mutex guardMu;
  size_t nextContext = 0;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> active{0};
  std::mutex connMu;
  std::list<std::weak_ptr<Conn>> conns;
  // Open connections per client address, for maxConnectionsPerClient.
  std::mutex clientsMu;
  std::unordered_map<std::string, uint32_t> clients;

  struct Counters {
    std::atomic<uint64_t> connectionFailures{0}, refusedClients{0}, acceptErrors{0}, headTimeouts{0},
        bodyTimeouts{0}, badRequests{0};
  } counters;

  asio::awaitable<void> acceptLoop();
  void connectionEnded(std::exception_ptr failure);
  void acceptErrorsSeen(std::chrono::milliseconds& pause);
  // Counts a new connection from `client`; false when it has too many.
  bool admitClient(const std::string& client);
  void releaseClient(const std::string& client);
  // Runs one io_context until it stops; an exception thrown out of a
  // handler is counted and the loop goes on (the data plane never dies).
  void runContext(asio::io_context& ctx);
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

// What reading a request head came to.
struct HeadResult {
  enum Kind { Ok, Closed, Refused } kind = Closed;
  Refusal refusal;
};

struct Conn : std::enable_shared_from_this<Conn> {
  Conn(Server::Impl& s, tcp::socket sock, std::string clientAddress, bool admitted);
  ~Conn();
  Server::Impl& srv;
  beast::tcp_stream stream;
  // Bounded: a head, or a trailer, can never grow it past the header
  // limit plus one read.
  beast::flat_buffer buffer;
  std::atomic<bool> idle{true};
  std::string remote, client;
  bool admitted;

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
  asio::awaitable<HeadResult> readHead(RequestParser& parser, bool first);
};

}  // namespace fn0::http
