// The platform's own endpoints under /_fn0/: health and readiness, and the
// admin REST API (/_fn0/api/v1/, JSON, bearer token): deploy, functions,
// versions, aliases, environment, secrets (write-only), export, logs and
// metrics (the whole cluster's), status, cluster.
#pragma once

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/auth.h"
#include "admin/fanout.h"
#include "admin/log_merge.h"
#include "admin/route_match.h"
#include "cluster/cluster.h"
#include "dispatch/admission.h"
#include "kv/guest_api.h"
#include "kv/kv_service.h"
#include "http/exchange.h"
#include "logs/log_hub.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "runtime/component_cache.h"
#include "runtime/invocation.h"
#include "code/library.h"
#include "gc/collector.h"
#include "oidc/relying_party.h"
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
  // Reads of the log file run here (null: on the registry pool).
  boost::asio::thread_pool* logPool = nullptr;
  // The node's log retention per function (0: not kept on disk / no age
  // limit), for `function_limits`.
  uint64_t logRetentionMb = 0, logRetentionHours = 0;
  int64_t auditDays = 90;                           // audit entries older than this are deleted
  gc::Collector* gc = nullptr;                      // POST /gc (gc_view.cc)
  // People's logins through an OpenID provider (oidc_views.cc; null: only
  // tokens log in).
  oidc::RelyingParty* oidc = nullptr;
};

// One API request as it goes through: who calls, and what its audit entry
// should say beyond the route (e.g. the version a deploy made).
struct ApiCall {
  Caller caller;
  nlohmann::json detail = nlohmann::json::object();
};

// The OpenAPI document; apiRoutes() (route_match.h) lists the same routes.
extern const char* const kOpenApiJson;

class AdminApi {
 public:
  explicit AdminApi(AdminDeps deps);
  boost::asio::awaitable<void> serve(http::Exchange& ex);

 private:
  // `route` is the matched apiRoutes() template, `params` its placeholders.
  // Authenticates, matches the route (`rel`: the path after /_fn0/api/v1),
  // checks CSRF and the caller's role, then api().
  boost::asio::awaitable<void> apiRequest(http::Exchange& ex, const std::string& rel, const std::string& query);
  boost::asio::awaitable<void> api(http::Exchange& ex, ApiCall& call, const std::string& route,
                                   const std::vector<std::string>& params, const std::string& query);
  boost::asio::awaitable<void> deploy(http::Exchange& ex, ApiCall& call, const std::string& name, bool live);
  // /tokens and /audit (access_views.cc).
  boost::asio::awaitable<void> tokensRoute(http::Exchange& ex, ApiCall& call, const std::string& route,
                                           const std::vector<std::string>& params);
  boost::asio::awaitable<void> auditRoute(http::Exchange& ex, const std::string& query);
  // Appends an audit entry for what `caller` just did (answered `status`).
  boost::asio::awaitable<void> recordAudit(const http::Request& req, const Caller& caller, std::string action,
                                           std::string function, nlohmann::json detail, int status);
  // Who is calling (session_views.cc): a bearer token, a session cookie,
  // or a session the CLI holds as a bearer credential.
  boost::asio::awaitable<Caller> authenticate(const http::Request& req);
  // The caller a session row stands for now (its token's role, or its
  // person mapped by the OIDC rules in force); Nobody when it no longer
  // stands for anyone. `safe`: a read, which may use the cache.
  boost::asio::awaitable<Caller> sessionCaller(std::string idHash, bool safe);
  // A new session: its row (only the secret's sha256 is stored) and the
  // secret, a cookie value or, for `bearer`, a credential the CLI keeps.
  struct OpenedSession {
    std::string secret;
    Caller caller;
  };
  boost::asio::awaitable<Result<OpenedSession>> openSession(registry::Registry::Session s, bool bearer);
  // /session: log in with a token, who is logged in, log out.
  boost::asio::awaitable<void> sessionRoute(http::Exchange& ex);
  nlohmann::json loginMethods() const;
  nlohmann::json sessionJson(const Caller& c) const;
  // /_fn0/auth/oidc/... (oidc_views.cc): a browser's login (start,
  // callback) and the CLI's device login (device, device/poll).
  boost::asio::awaitable<void> oidcRoute(http::Exchange& ex, const std::string& path, const std::string& query);
  boost::asio::awaitable<void> oidcStart(http::Exchange& ex);
  boost::asio::awaitable<void> oidcCallback(http::Exchange& ex, const std::string& query);
  boost::asio::awaitable<void> oidcDeviceStart(http::Exchange& ex);
  boost::asio::awaitable<void> oidcDevicePoll(http::Exchange& ex);
  // /series, /functions/{name}/series, /stats (series_views.cc): the
  // last hour in 10 s steps, this node's or the cluster's.
  boost::asio::awaitable<void> series(http::Exchange& ex, const std::string* function, std::string query);
  boost::asio::awaitable<void> stats(http::Exchange& ex, Caller caller, std::string query);
  // What a peer needs to answer for the same caller (its token or cookie).
  static std::vector<http::Header> peerAuth(const http::Request& req);
  // Runs `f` on the key-value store's threads, waiting on the registry pool.
  boost::asio::awaitable<Result<void>> kvRun(bool write, std::function<void(kv::KvStore&)> f);
  // /functions/{name}/kv... (kv_views.cc).
  boost::asio::awaitable<void> kvRoute(http::Exchange& ex, const std::string& route,
                                       const std::vector<std::string>& params, const std::string& query);
  // A function's logs (log_views.cc) and metrics (function_views.cc), the
  // whole cluster's or this node's. `shape` is the query's filters, limit
  // and tail; positions come from the cursor.
  boost::asio::awaitable<void> logs(http::Exchange& ex, std::string name, std::string query);
  boost::asio::awaitable<void> followLogs(http::Exchange& ex, std::string name, LogCursor cursor, logs::Query shape,
                                          bool wholeCluster);
  boost::asio::awaitable<void> functionMetrics(http::Exchange& ex, std::string name, std::string query);
  // POST /gc: the whole collection here, each up peer's local sweep
  // (gc_view.cc).
  boost::asio::awaitable<void> collectGarbage(http::Exchange& ex, std::string query);
  struct GatheredLogs {
    std::vector<NodeLogPage> pages;  // this node's first
    std::vector<PeerAnswer> failed;  // peers left out
  };
  // Fails only when this node's own log cannot be read.
  boost::asio::awaitable<Result<GatheredLogs>> gatherLogs(const http::Request& req, std::string name,
                                                          LogCursor cursor, logs::Query shape, bool wholeCluster);
  boost::asio::awaitable<Result<NodeLogPage>> localLogs(const std::string& name, const LogCursor& cursor,
                                                        const logs::Query& shape, bool knownOnly);
  // This node's page, read off the I/O thread when it comes from the file.
  boost::asio::awaitable<Result<logs::Page>> readLog(std::string name, logs::Query q);
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
  std::atomic<uint32_t> deploys_{0}, compiling_{0};  // in progress; compiling now
  SessionCache sessions_;
  LoginLimiter logins_;
  // OIDC logins begun per client address (each one a registry row until it
  // ends or expires): at most 30 a minute, so nobody fills the table.
  LoginLimiter oidcStarts_{30, std::chrono::seconds(60)};
  std::atomic<int64_t> auditPurgedAt_{0};  // unix seconds of the last purge of old entries
};

// Runs `op` (a registry call: a database round trip, on PostgreSQL maybe a
// slow one) on the registry pool and comes back to this connection's
// thread, so a slow or vanished database never holds an I/O thread whose
// other connections serve functions. `op` returns a Result.
template <typename Op>
boost::asio::awaitable<std::invoke_result_t<Op&>> AdminApi::db(Op op) {
  using R = std::invoke_result_t<Op&>;
  auto home = co_await boost::asio::this_coro::executor;
  co_await boost::asio::post(boost::asio::bind_executor(d_.registryPool, boost::asio::use_awaitable));
  std::optional<R> r;
  try {
    r.emplace(op());
  } catch (const std::exception& e) {
    r.emplace(Error{std::string("registry: ") + e.what()});
  }
  co_await boost::asio::post(boost::asio::bind_executor(home, boost::asio::use_awaitable));
  co_return std::move(*r);
}

}  // namespace fn0::admin
