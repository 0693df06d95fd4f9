// Test helper: the reference host, `wasmtime serve`, on a free loopback port
// (C++ twin of tests/integration/reference_host.py), and a minimal HTTP/1.1
// client (Boost.Beast) that returns exactly what came over the wire.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/invocation.h"

namespace fn0::runtime::testing {

class ReferenceHost {
 public:
  explicit ReferenceHost(const std::filesystem::path& component);
  ~ReferenceHost();
  uint16_t port() const { return port_; }
  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  uint16_t port_ = 0;
  std::string log_;
};

struct WireResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
};

// Sends one request with exactly `headers` (give Host and Content-Length
// yourself) and reads the response.
WireResponse httpRequest(uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<Header>& headers, const std::string& body);

}  // namespace fn0::runtime::testing
