// Test helper: runs one request through the invoke API to completion on the
// calling thread, the way the HTTP layer will (non-blocking calls, waits on
// callbacks), and records everything that came back.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/invocation.h"

namespace fn0::runtime::testing {

struct Exchange {
  bool started = false;       // Invocation::start succeeded
  std::string startError;
  uint16_t status = 0;        // 0: the guest never answered
  std::vector<Header> headers;
  std::string body;           // kept up to keepBody bytes
  uint64_t bodyBytes = 0;     // all bytes received
  bool bodyComplete = false;  // END seen
  bool bodyFailed = false;    // FAILED seen
  Outcome outcome;
  std::vector<std::pair<int, std::string>> logs;

  std::string header(std::string_view name) const;
};

struct ExchangeOptions {
  InvokeOptions invoke;
  size_t keepBody = 64ull << 20;
  size_t chunk = 64 * 1024;  // request body is offered in pieces of this size
};

Exchange exchange(const Engine& engine, std::shared_ptr<const Component> component,
                  const RequestHead& head, std::string_view body = {},
                  const ExchangeOptions& options = {});

}  // namespace fn0::runtime::testing
