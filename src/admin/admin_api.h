// The platform's own endpoints under /_fn0/: health and readiness, and the
// admin REST API (/_fn0/api/v1/, JSON, bearer token): deploy, functions,
// versions, aliases, environment, secrets (write-only), export, logs and
// metrics (the whole cluster's), status, cluster.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/fanout.h"
#include "admin/log_merge.h"
#include "admin/route_match.h"
#include "cluster/cluster.h"
#include "dispatch/admission.h"
#include "kv/guest_api.h"
#include "kv/kv_service.h"
#include "http/exchange.h"
#include "logs/log_buffer.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "runtime/component_cache.h"
#include "runtime/invocation.h"
#include "code/library.h"
#include "gc/collector.h"
#include "store/code_store.h"

namespace fn0::admin {

struct AdminDeps {
  registry::Registry& registry;
  code::Library& library;  // deploys store their code here; downloads read it
  runtime::ComponentCache& cache;
  logs::LogHub& logs;
  metrics::Metrics& metrics;
  boost::asio::thread_pool& compilePool;  // deploys compile here, off the I/O threads (a few threads)
  boost::asio::thread_pool& registryPool;  // registry calls run here, off the I/O threads
  std::string baseDomain;
  uint16_t port;  // for the URLs deploy answers with
  uint64_t maxUploadBytes = 512ull << 20;
  uint32_t maxDeploys = 8;  // deploys in progress (upload + compile); more get 503
  // sha256 hex of the token /_fn0/metrics needs ("": open to anyone); an
  // admin token works there too.
  std::string metricsTokenHash;
  const dispatch::Admission* admission = nullptr;  // this node's load
  // The node's limits: a function's defaults and maxima (GET /status
  // `function_limits`, which `fn0 settings` shows next to a function's own).
  runtime::Limits nodeLimits{};
  cluster::Cluster* cluster = nullptr;              // in a cluster
  kv::KvService* kv = nullptr;                      // functions' key-value buckets
  kv::KvLimits kvLimits{};                          // the node's (admin writes obey them too)
  gc::Collector* gc = nullptr;                      // POST /gc (gc_view.cc)
};

// The OpenAPI document; apiRoutes() (route_match.h) lists the same routes.
extern const char* const kOpenApiJson;

class AdminApi {
 public:
  explicit AdminApi(AdminDeps deps);
  boost::asio::awaitable<void> serve(http::Exchange& ex);

 private:
  // `route` is the matched apiRoutes() template, `params` its placeholders.
  boost::asio::awaitable<void> api(http::Exchange& ex, const std::string& route, const std::vector<std::string>& params,
                                   const std::string& query);
  boost::asio::awaitable<void> deploy(http::Exchange& ex, const std::string& name, bool live);
  // Runs `f` on the key-value store's threads, waiting on the registry pool.
  boost::asio::awaitable<Result<void>> kvRun(bool write, std::function<void(kv::KvStore&)> f);
  // /functions/{name}/kv... (kv_views.cc).
  boost::asio::awaitable<void> kvRoute(http::Exchange& ex, const std::string& route,
                                       const std::vector<std::string>& params, const std::string& query);
  // A function's logs and metrics, the whole cluster's or this node's
  // (function_views.cc).
  boost::asio::awaitable<void> logs(http::Exchange& ex, std::string name, std::string query);
  boost::asio::awaitable<void> followLogs(http::Exchange& ex, std::string name, LogCursor cursor, bool wholeCluster);
  boost::asio::awaitable<void> functionMetrics(http::Exchange& ex, std::string name, std::string query);
  // POST /gc: the whole collection here, each up peer's local sweep
  // (gc_view.cc).
  boost::asio::awaitable<void> collectGarbage(http::Exchange& ex, std::string query);
  struct GatheredLogs {
    std::vector<NodeLogPage> pages;  // this node's first
    std::vector<PeerAnswer> failed;  // peers left out
  };
  boost::asio::awaitable<GatheredLogs> gatherLogs(const http::Request& req, std::string name, LogCursor cursor,
                                                  size_t limit, bool wholeCluster);
  NodeLogPage localLogs(const std::string& name, const LogCursor& cursor, size_t limit, bool knownOnly);
  // Whether a request wants this node's part only: a peer's (never asked
  // further), `local=true`, or any request on a node alone.
  bool localOnly(const http::Request& req, const std::string& query) const;
  std::string selfId() const;
  bool metricsAllowed(const http::Request& request);
  nlohmann::json clusterJson() const;
  nlohmann::json functionLimitsJson() const;
  template <typename Op>
  boost::asio::awaitable<std::invoke_result_t<Op&>> db(Op op);
  boost::asio::awaitable<std::optional<registry::FunctionInfo>> loadFunction(std::string name);
  AdminDeps d_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // This process's start in ms since 1970: log cursors tell a restarted
  // node (whose sequence numbers start again) by it.
  const int64_t epoch_;
  std::atomic<uint32_t> deploys_{0}, compiling_{0};  // in progress; compiling now
};

}  // namespace fn0::admin
