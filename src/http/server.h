// The HTTP/1.1 server (Boost.Beast): accepts connections, parses requests
// with wire limits and timeouts, runs the Handler per request with keep-alive,
// writes a structured access log line per request, and shuts down gracefully
// (stop accepting, let in-flight requests finish, close idle connections).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "http/access_log.h"
#include "http/exchange.h"

namespace fn0::http {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  unsigned threads = 0;  // 0: one per CPU
  uint64_t maxHeaderBytes = 128 * 1024;
  uint64_t maxBodyBytes = 100ull * 1000 * 1000;
  std::chrono::seconds headerTimeout{30};  // a slow client must send its head within this
  std::chrono::seconds idleTimeout{60};    // keep-alive connections waiting for a request
  std::chrono::seconds ioTimeout{60};      // any single body read or write
  std::chrono::seconds drainTimeout{30};   // graceful shutdown waits this long at most
};

class Server {
 public:
  Server(ServerConfig config, Handler handler, AccessLog& log);
  ~Server();

  // Binds and listens; returns the bound port (useful with port 0).
  Result<uint16_t> listen();
  // Serves until stop() and the drain finish. Runs the I/O threads.
  void run();
  // Graceful stop; safe from any thread or a signal handler.
  void stop();
  uint64_t activeConnections() const;
  asio::any_io_executor executor();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fn0::http
