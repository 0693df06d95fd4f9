// The platform's own endpoints under /_fn0/: health and readiness, and the
// admin REST API (/_fn0/api/v1/, JSON, bearer token): deploy, functions,
// versions, aliases, environment, secrets (write-only), export, logs, status.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "http/exchange.h"
#include "logs/log_buffer.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "runtime/component_cache.h"
#include "store/blob_store.h"

namespace fn0::admin {

struct AdminDeps {
  registry::Registry& registry;
  store::BlobStore& blobs;
  runtime::ComponentCache& cache;
  logs::LogHub& logs;
  metrics::Metrics& metrics;
  boost::asio::thread_pool& compilePool;  // deploys compile here, off the I/O threads
  std::string baseDomain;
  uint16_t port;  // for the URLs deploy answers with
  uint64_t maxUploadBytes = 512ull << 20;
};

// Every API route as "METHOD /template" (OpenAPI style, relative to
// /_fn0/api/v1). The single list both the dispatcher and the OpenAPI test use.
const std::vector<std::string>& apiRoutes();
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
  boost::asio::awaitable<void> followLogs(http::Exchange& ex, const std::string& name, uint64_t after);
  AdminDeps d_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace fn0::admin
