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
  // A request body must keep up a minimum rate once its grace time is over:
  // by `bodyGrace + received / bodyMinRate` after the first body read the
  // bytes must be there, else 408 and the connection closes. Trickling
  // clients cannot hold a function's concurrency slots for long.
  std::chrono::seconds bodyGrace{10};
  uint64_t bodyMinRate = 1024;  // bytes per second
  // Open connections from one client address; more are answered 429.
  uint32_t maxConnectionsPerClient = 512;
  std::chrono::seconds drainTimeout{30};   // graceful shutdown waits this long at most
  // In a cluster: this node's id, sent as `fn0-node` on every response it
  // writes itself and put in its access log lines.
  std::string nodeId;
};

// Counters for the metrics endpoint (all totals since start).
struct ServerStats {
  uint64_t connectionFailures = 0;  // an exception ended a connection (counted, never fatal)
  uint64_t refusedClients = 0;      // connections over maxConnectionsPerClient
  uint64_t acceptErrors = 0;        // e.g. out of file descriptors
  uint64_t headTimeouts = 0, bodyTimeouts = 0;
  uint64_t badRequests = 0;  // refused before any handler ran (400/408/413/431/501)
};

class Server {
 public:
  Server(ServerConfig config, Handler handler, AccessLog& log);
  ~Server();

  // Binds and listens; returns the bound port (useful with port 0).
  Result<uint16_t> listen();
  // Between listen() and run(): the node id once the bound port is known.
  void setNodeId(std::string id);
  // Serves until stop() and the drain finish. Runs the I/O threads.
  void run();
  // Graceful stop; safe from any thread or a signal handler.
  void stop();
  uint64_t activeConnections() const;
  ServerStats stats() const;
  asio::any_io_executor executor();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fn0::http
