// Runs a routed request on its function: resolves the version, gets the
// pre-linked component, and bridges the HTTP exchange and the invocation
// (request body in, response out, both streaming, full duplex), turning the
// outcome into a platform error response when the guest did not answer.
#pragma once

#include <memory>

#include "dispatch/admission.h"
#include "dispatch/env_overlay.h"
#include "dispatch/router.h"
#include "http/exchange.h"
#include "logs/log_hub.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "runtime/component_cache.h"
#include "runtime/invocation.h"
#include <boost/asio/thread_pool.hpp>

#include "cluster/cluster.h"
#include "kv/guest_api.h"
#include "code/library.h"

namespace fn0::dispatch {

class Invoker {
 public:
  // `maxConcurrency`: requests holding an instance at once on the node;
  // `functionShare`: at once per function (0: half of maxConcurrency).
  // `fetchPool`: where a component missing on this node is downloaded (or
  // compiled), off the I/O threads.
  Invoker(const runtime::Engine& engine, runtime::ComponentCache& cache, registry::Registry& registry,
          code::Library& library, boost::asio::thread_pool& fetchPool, logs::LogHub& logs, metrics::Metrics& metrics,
          runtime::Limits limits, uint32_t maxConcurrency, uint32_t functionShare = 0);
  boost::asio::awaitable<void> serve(http::Exchange& ex, const Route& route);
  const Admission& admission() const { return admission_; }
  // In a cluster: requests may run on a peer (set before serving).
  void joinCluster(cluster::Cluster* c) { cluster_ = c; }
  // fn0 dev: variables added in memory to functions' own (set before serving).
  void useEnvOverlay(const EnvOverlay* o) { envOverlay_ = o; }
  // Guests' key-value calls (set before serving; none: no store).
  void useKv(kv::KvGuestApi* kv) { kv_ = kv; }

 private:
  // A held slot when the request runs here; an empty ticket when it went
  // to a peer or was answered 503 (docs/cluster.md: where a request runs).
  boost::asio::awaitable<Admission::Ticket> place(http::Exchange& ex, const registry::Catalog::Function& fn,
                                                  const std::string& hash, int64_t version, bool fromPeer);
  // True when the peer answered (or the exchange is over); false: try elsewhere.
  boost::asio::awaitable<bool> tryPeer(http::Exchange& ex, const std::string& id, int64_t version);
  boost::asio::awaitable<void> overloaded(http::Exchange& ex, const std::string& function, uint32_t ownLimit,
                                          Admission::Refusal why, bool wholeCluster, bool record = true);

  const runtime::Engine& engine_;
  runtime::ComponentCache& cache_;
  registry::Registry& registry_;
  code::Library& library_;
  boost::asio::thread_pool& fetchPool_;
  logs::LogHub& logs_;
  metrics::Metrics& metrics_;
  runtime::Limits limits_;
  // Admission control: requests holding an instance, on the node and per
  // function. Beyond either a request is answered 503 overloaded (with
  // Retry-After) at once.
  Admission admission_;
  cluster::Cluster* cluster_ = nullptr;
  const EnvOverlay* envOverlay_ = nullptr;
  kv::KvGuestApi* kv_ = nullptr;
};

}  // namespace fn0::dispatch
