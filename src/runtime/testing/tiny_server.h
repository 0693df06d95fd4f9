// Test helper: an HTTP/1.1 server on 127.0.0.1 that answers every request
// with 204 and counts connections. Enough to be the target of a guest's
// outbound requests; the real server comes with the node.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace fn0::runtime::testing {

class TinyServer {
 public:
  TinyServer();
  ~TinyServer();
  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void serve();
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fn0::runtime::testing
