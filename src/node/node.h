// `fn0 serve`: a node. Builds its parts from the configuration and runs
// them: engine, component cache, blob store, registry, router, invoker,
// admin API and the HTTP server; handles SIGTERM/SIGINT gracefully.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dispatch/env_overlay.h"
#include "http/access_log.h"
#include "runtime/invocation.h"

namespace CLI {
class App;
}

namespace fn0::node {

struct NodeConfig {
  std::string listen = "127.0.0.1:8080";
  std::filesystem::path dataDir = "fn0-data";
  std::string baseDomain = "fn0.localhost";
  std::string adminTokenFile;
  unsigned threads = 0;
  unsigned guestThreads = 0;  // the adapter's runtime (0: half the CPUs)
  uint64_t cacheMegabytes = 1024;
  uint64_t logKilobytesPerFunction = 1024;  // in memory, when logs are not kept on disk
  // Persistent function logs (<dataDir>/logs.db): per function, the most
  // bytes kept (0: none on disk, memory only) and the oldest kept (0: no
  // age limit); lines waiting to be written, at most.
  uint64_t logRetentionMb = 64, logRetentionHours = 168, logQueueKb = 8192;
  // Node limits: defaults for every function and the maxima they may not pass.
  uint64_t cpuMs = 10, durationMs = 15000, memoryMb = 128, maxBodyMb = 100, maxHeaderKb = 128;
  uint32_t maxSubrequests = 50;
  // The key-value store's limits (docs/kv.md): per key, per value, per
  // request (operations), per bucket (bytes of keys and values).
  uint64_t kvMaxKeyBytes = 512, kvMaxValueBytes = 1 << 20, kvMaxOperations = 1000, kvMaxBytes = 64ull << 20;
  // Instances the pooling allocator has slots for (0: max-concurrency + 16,
  // at least 64); a request finding none answers 503 overloaded.
  uint32_t pooledInstances = 0;
  // A deploy's compilation runs in a child process with these budgets.
  uint64_t compileMemoryMb = 2048;
  unsigned compileTimeoutSeconds = 300;
  // Incremental compilation cache on disk (0: none): functions an earlier
  // deploy compiled are reused, e.g. the interpreter of every JS or Python
  // function. Empty directory: <dataDir>/compile-cache.
  uint64_t compileCacheMb = 1024;
  // Tiered compilation (runtime::ComponentCache::compileBaselineFirst): a
  // big WASI 0.2 deploy answers from the baseline compiler's code while the
  // optimizing compile runs in the background.
  bool tieredCompile = true;
  std::filesystem::path compileCacheDir;  // a JS component: ~5 s idle, a minute on a loaded 2-core machine
  unsigned headerTimeoutSeconds = 30, idleTimeoutSeconds = 60;
  unsigned bodyGraceSeconds = 10;
  uint64_t bodyMinRate = 1024;
  uint32_t maxClientConnections = 512;
  int64_t auditDays = 90;  // audit log entries older than this are deleted
  // People's logins through an OpenID provider (docs/access.md): the
  // provider, this node as its client, and who gets which role.
  std::string oidcIssuer, oidcClientId;
  std::string oidcClientSecretFile;  // or FN0_OIDC_CLIENT_SECRET; none: a public client (PKCE)
  std::string oidcCaFile;            // a private CA for an https provider ("": the system's)
  std::string oidcScopes = "openid email profile";
  std::string oidcGroupsClaim = "groups";
  std::string oidcName = "SSO";  // the dashboard's "Sign in with <name>"
  std::vector<std::string> oidcAdmins, oidcDeployers, oidcViewers;
  // How browsers reach the node (the OIDC redirect URI is
  // <publicUrl>/_fn0/auth/oidc/callback); "": http://<listen address>.
  std::string publicUrl;
  uint32_t maxConcurrency = 1000;
  uint32_t maxFunctionConcurrency = 0;  // per function (0: half of maxConcurrency)
  unsigned compileThreads = 0;          // deploys compiling at once (0: 2, or a quarter of the CPUs if more)
  std::string metricsTokenFile;         // or FN0_METRICS_TOKEN; unset: /_fn0/metrics is open
  // Shared state (docs/cluster.md). Empty: SQLite and blobs in the data directory.
  std::string registryUrl;     // postgres://USER@HOST:PORT/DB
  std::string storeUrl;        // s3://BUCKET?endpoint=http://HOST:PORT or file:///shared/path
  std::string clusterKeyFile;  // or FN0_CLUSTER_KEY: seals shared artifacts
  // The keys secrets are sealed with in the registry (docs/secrets.md), or
  // FN0_SECRETS_KEY_FILE; empty: <dataDir>/secrets.key, made on first start.
  std::string secretsKeyFile;
  uint64_t diskCacheMb = 8192;  // local artifacts and originals of a shared store
  // Garbage collection (`fn0 gc`, src/gc/): versions kept per function
  // besides aliased ones (0: all), and how old an unreferenced object must
  // be before it is deleted.
  uint32_t keepVersions = 20;
  uint64_t gcGraceSeconds = 3600;
  // Cluster routing (with a PostgreSQL registry; docs/cluster.md).
  std::string advertise;  // HOST:PORT peers reach this node at (default: the listen address)
  bool forward = true;    // send requests to peers that hold the function warm
  bool accessLog = true;  // JSON lines on stdout (off in `fn0 dev`)
  // Set by `fn0 dev`, not by flags: each request's record (instead of the
  // JSON line), and variables added in memory to functions' own.
  std::function<void(const http::AccessRecord&)> onRequest;
  std::shared_ptr<const dispatch::EnvOverlay> envOverlay;
  // Compiled artifacts elsewhere than <dataDir>/artifacts (fn0 dev: one
  // folder per machine, so the JS dev engine is compiled once, not per project).
  std::filesystem::path artifactsDir;
};

// Adds the `serve` subcommand's flags (and --config) to `app`.
CLI::App* addServeCommand(CLI::App& app, NodeConfig& config);

// Runs a node until it is told to stop. Returns the process exit code.
int serve(const NodeConfig& config);

}  // namespace fn0::node
