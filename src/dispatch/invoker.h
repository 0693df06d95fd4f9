// Runs a routed request on its function: resolves the version, gets the
// pre-linked component, and bridges the HTTP exchange and the invocation
// (request body in, response out, both streaming, full duplex), turning the
// outcome into a platform error response when the guest did not answer.
#pragma once

#include <atomic>
#include <memory>

#include "dispatch/router.h"
#include "http/exchange.h"
#include "logs/log_buffer.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "runtime/component_cache.h"
#include "runtime/invocation.h"
#include "store/blob_store.h"

namespace fn0::dispatch {

class Invoker {
 public:
  Invoker(const runtime::Engine& engine, runtime::ComponentCache& cache, registry::Registry& registry,
          const store::BlobStore& blobs, logs::LogHub& logs, metrics::Metrics& metrics, runtime::Limits limits,
          uint32_t maxConcurrency);
  boost::asio::awaitable<void> serve(http::Exchange& ex, const Route& route);

 private:
  runtime::Limits functionLimits(const registry::FunctionSettings& settings) const;
  const runtime::Engine& engine_;
  runtime::ComponentCache& cache_;
  registry::Registry& registry_;
  const store::BlobStore& blobs_;
  logs::LogHub& logs_;
  metrics::Metrics& metrics_;
  runtime::Limits limits_;
  // Admission control: instances running at once on this node. Beyond it a
  // request is answered 503 overloaded (with Retry-After) at once.
  const uint32_t maxConcurrency_;
  std::atomic<uint32_t> running_{0};
};

}  // namespace fn0::dispatch
