#include "node/node.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdlib>
#include <fmt/core.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "admin/admin_api.h"
#include "cluster/cluster.h"
#include "common/random.h"
#include "common/sha256.h"
#include "common/version.h"
#include "dispatch/invoker.h"
#include "dispatch/respond.h"
#include "dispatch/router.h"
#include "http/server.h"
#include "kv/guest_api.h"
#include "kv/kv_service.h"
#include "logs/log_hub.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "registry/secret_keys.h"
#include "runtime/component_cache.h"
#include "runtime/engine.h"
#include "code/library.h"
#include "gc/collector.h"
#include "oidc/relying_party.h"
#include "store/code_store.h"

namespace fn0::node {

namespace asio = boost::asio;

CLI::App* addServeCommand(CLI::App& app, NodeConfig& c) {
  auto* s = app.add_subcommand("serve", "Run a node: serve functions and the admin API");
  s->add_option("--listen", c.listen, "Address to listen on (host:port)")->capture_default_str();
  s->add_option("--data-dir", c.dataDir, "Where the registry, blobs and artifacts live")->capture_default_str();
  s->add_option("--base-domain", c.baseDomain, "Functions answer at <fn>.<base-domain>")->capture_default_str();
  s->add_option("--admin-token-file", c.adminTokenFile,
                "File holding the admin token (or set FN0_ADMIN_TOKEN); without either, one is generated");
  s->add_option("--threads", c.threads, "I/O threads (0: one per CPU)")->capture_default_str();
  s->add_option("--guest-threads", c.guestThreads, "Threads costly guests run on (0: half the CPUs)")->capture_default_str();
  s->add_option("--cache-mb", c.cacheMegabytes, "Memory for pre-linked components")->capture_default_str();
  s->add_option("--log-kb", c.logKilobytesPerFunction,
                 "Log lines kept in memory per function when none are kept on disk (--log-retention-mb 0)")
      ->capture_default_str();
  s->add_option("--log-retention-mb", c.logRetentionMb,
                "Log lines kept on disk per function (MiB, in <data-dir>/logs.db; 0: none on disk, only --log-kb in "
                "memory)")
      ->capture_default_str();
  s->add_option("--log-retention-hours", c.logRetentionHours,
                "Log lines older than this are deleted (0: no age limit)")
      ->capture_default_str();
  s->add_option("--log-queue-kb", c.logQueueKb,
                "Log lines waiting to be written to disk, at most; past it lines are dropped and counted "
                "(fn0_log_lines_dropped_total), never waited for")
      ->capture_default_str();
  s->add_option("--cpu-ms", c.cpuMs, "CPU time per request")->capture_default_str();
  s->add_option("--duration-ms", c.durationMs, "Wall-clock time per request")->capture_default_str();
  s->add_option("--memory-mb", c.memoryMb, "Memory per instance")->capture_default_str();
  s->add_option("--max-body-mb", c.maxBodyMb, "Request body size (MB)")->capture_default_str();
  s->add_option("--max-header-kb", c.maxHeaderKb, "Request header size (KiB)")->capture_default_str();
  s->add_option("--max-subrequests", c.maxSubrequests, "Outbound requests per request")->capture_default_str();
  s->add_option("--pooled-instances", c.pooledInstances,
                "Instance slots of the pooling allocator; with none free a request gets 503 overloaded "
                "(0: --max-concurrency + 16, at least 64)")
      ->capture_default_str();
  s->add_option("--compile-memory-mb", c.compileMemoryMb, "Memory one deploy's compilation may use")
      ->capture_default_str();
  s->add_option("--compile-timeout-s", c.compileTimeoutSeconds, "Time one deploy's compilation may take")
      ->capture_default_str();
  s->add_option("--compile-cache-mb", c.compileCacheMb,
                "Disk for compiled functions reused by later deploys (in <data-dir>/compile-cache; 0: none, every "
                "deploy compiles all its code)")
      ->capture_default_str();
  s->add_flag("!--no-tiered-compile", c.tieredCompile,
              "Compile every deploy with the optimizing compiler before it answers (by default, on a node with "
              "its own store, a component of 1 MiB or more answers from the baseline compiler's code while it "
              "is optimized in the background)");
  s->add_flag("!--no-access-log", c.accessLog, "Do not write the JSON access log to stdout");
  s->add_option("--max-concurrency", c.maxConcurrency, "Requests running at once; more get 503 overloaded")
      ->capture_default_str();
  s->add_option("--max-function-concurrency", c.maxFunctionConcurrency,
                "Requests one function may run at once; more get 503 overloaded (0: half of --max-concurrency)")
      ->capture_default_str();
  s->add_option("--compile-threads", c.compileThreads,
                "Deploys compiling at once (0: 2, or a quarter of the CPUs if more)")
      ->capture_default_str();
  s->add_option("--metrics-token-file", c.metricsTokenFile,
                "File holding a token /_fn0/metrics then needs (or set FN0_METRICS_TOKEN; an admin token also "
                "works); without either, metrics are open");
  s->add_option("--registry", c.registryUrl,
                "Shared registry: postgres://USER[:PASSWORD]@HOST:PORT/DB (default: SQLite in the data directory)");
  s->add_option("--store", c.storeUrl,
                "Shared code store: s3://BUCKET?endpoint=http://HOST:PORT (credentials from AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY, AWS_REGION) or file:///shared/path (default: the data directory)");
  s->add_option("--cluster-key-file", c.clusterKeyFile,
                "File with the cluster secret (or set FN0_CLUSTER_KEY, at least 32 characters) that seals compiled "
                "artifacts shared through --store; without it every node compiles for itself");
  s->add_option("--secrets-key-file", c.secretsKeyFile,
                "File with the keys that seal functions' secrets in the registry (or set FN0_SECRETS_KEY_FILE; "
                "default: <data-dir>/secrets.key, made with mode 0600 on first start). Keep it apart from registry "
                "backups; every node sharing a registry needs the same file (docs/secrets.md)")
      ->envname("FN0_SECRETS_KEY_FILE");
  s->add_option("--disk-cache-mb", c.diskCacheMb,
                "Local disk for artifacts and components fetched from a shared --store")
      ->capture_default_str();
  s->add_option("--keep-versions", c.keepVersions,
                "Versions `fn0 gc` keeps per function, besides every one an alias names (0: keep all)")
      ->capture_default_str();
  s->add_option("--gc-grace-s", c.gcGraceSeconds,
                "`fn0 gc` never deletes code written less than this long ago (a deploy in progress may not have "
                "its version yet)")
      ->capture_default_str();
  s->add_option("--advertise", c.advertise,
                "HOST:PORT other nodes reach this one at, with a PostgreSQL --registry (default: the listen "
                "address; required when listening on 0.0.0.0)");
  s->add_flag("!--no-forward", c.forward,
              "Never send a request to a peer: run everything received here (plain load balancing)");
  s->add_option("--header-timeout-s", c.headerTimeoutSeconds, "A client must send its request head within this")
      ->capture_default_str();
  s->add_option("--idle-timeout-s", c.idleTimeoutSeconds, "Idle keep-alive connections are closed after this")
      ->capture_default_str();
  s->add_option("--body-grace-s", c.bodyGraceSeconds,
                "A request body may take this long before --body-min-rate applies")
      ->capture_default_str();
  s->add_option("--body-min-rate", c.bodyMinRate,
                "Bytes per second a request body must average after the grace time (0: off); slower gets 408")
      ->capture_default_str();
  s->add_option("--kv-max-key-bytes", c.kvMaxKeyBytes, "Longest key a function may use in its key-value store")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{65536}));
  s->add_option("--kv-max-value-bytes", c.kvMaxValueBytes, "Largest value a function may store")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
  s->add_option("--kv-max-operations", c.kvMaxOperations,
                "Key-value operations per request (a batch counts one per key)")
      ->capture_default_str();
  s->add_option("--kv-max-bytes", c.kvMaxBytes, "Bytes of keys and values one bucket may hold")
      ->capture_default_str();
  s->add_option("--max-client-connections", c.maxClientConnections,
                "Open connections per client address; more get 429 (0: no cap; raise it behind a load balancer)")
      ->capture_default_str();
  s->add_option("--audit-days", c.auditDays, "Days the audit log keeps an entry")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{36500}));
  s->add_option("--oidc-issuer", c.oidcIssuer,
                "Let people log in through this OpenID provider (its issuer URL; https, or http on loopback)");
  s->add_option("--oidc-client-id", c.oidcClientId, "This node's client id at the provider");
  s->add_option("--oidc-client-secret-file", c.oidcClientSecretFile,
                "File with the client secret (or FN0_OIDC_CLIENT_SECRET; none: a public client with PKCE)");
  s->add_option("--oidc-ca-file", c.oidcCaFile, "PEM certificates to trust for the provider instead of the system's");
  s->add_option("--oidc-scopes", c.oidcScopes, "Scopes to ask for (add 'groups' if the provider needs it)")
      ->capture_default_str();
  s->add_option("--oidc-groups-claim", c.oidcGroupsClaim, "The claim that lists a person's groups")->capture_default_str();
  s->add_option("--oidc-name", c.oidcName, "What the dashboard calls the provider (\"Sign in with NAME\")")
      ->capture_default_str();
  s->add_option("--oidc-admin", c.oidcAdmins, "Who is admin: an e-mail, *@DOMAIN, group:NAME or * (repeatable)");
  s->add_option("--oidc-deployer", c.oidcDeployers,
                "Who is deployer: as --oidc-admin, optionally =FUNCTIONS (group:api=api-*,billing; repeatable)");
  s->add_option("--oidc-viewer", c.oidcViewers, "Who is viewer: as --oidc-admin (repeatable)");
  s->add_option("--public-url", c.publicUrl,
                "How browsers reach this node, e.g. https://fn0.example.com (default: http://<listen address>)");
  // The config file is read by the top-level app (keys in a [serve] section
  // or at top level); fallthrough lets `fn0 serve --config F` find it.
  app.set_config("--config", "", "A TOML file with any of the serve options (in a [serve] section)");
  s->fallthrough();
  s->footer("Example:\n  fn0 serve --listen 127.0.0.1:8080 --data-dir ./fn0-data");
  return s;
}

namespace {

// A function's log retention: the node's, tightened by its own settings.
logs::Retention logRetention(logs::Retention node, const registry::FunctionSettings& s) {
  if (s.logRetentionMb) node.maxBytes = std::min<uint64_t>(node.maxBytes, *s.logRetentionMb << 20);
  if (s.logRetentionHours) {
    const auto own = std::chrono::hours(*s.logRetentionHours);
    // The node's 0 is "no age limit": any age the function sets is tighter.
    node.maxAge = node.maxAge.count() == 0 ? std::chrono::duration_cast<std::chrono::seconds>(own)
                                           : std::min<std::chrono::seconds>(node.maxAge, own);
  }
  return node;
}

std::string readToken(const NodeConfig& c) {
  if (!c.adminTokenFile.empty()) {
    std::ifstream in(c.adminTokenFile);
    if (!in) throw std::runtime_error("cannot read --admin-token-file " + c.adminTokenFile);
    std::string t;
    std::getline(in, t);
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (t.size() < 16) throw std::runtime_error("the admin token in " + c.adminTokenFile + " is shorter than 16 characters");
    return t;
  }
  if (const char* env = std::getenv("FN0_ADMIN_TOKEN"); env && *env) return env;
  return "";
}

// The metrics token (file or environment), "" when metrics stay open.
std::string readMetricsToken(const NodeConfig& c) {
  std::string t;
  if (!c.metricsTokenFile.empty()) {
    std::ifstream in(c.metricsTokenFile);
    if (!in) throw std::runtime_error("cannot read --metrics-token-file " + c.metricsTokenFile);
    std::getline(in, t);
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  } else if (const char* env = std::getenv("FN0_METRICS_TOKEN"); env && *env) {
    t = env;
  } else {
    return "";
  }
  if (t.size() < 16) throw std::runtime_error("the metrics token is shorter than 16 characters");
  return t;
}

// The cluster key (file or environment), std::nullopt when neither is set.
std::optional<std::string> readClusterKey(const NodeConfig& c) {
  std::string k;
  if (!c.clusterKeyFile.empty()) {
    std::ifstream in(c.clusterKeyFile, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read --cluster-key-file " + c.clusterKeyFile);
    k.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' ')) k.pop_back();
  } else if (const char* env = std::getenv("FN0_CLUSTER_KEY"); env && *env) {
    k = env;
  } else {
    return std::nullopt;
  }
  if (k.size() < 32)
    throw std::runtime_error("the cluster key is shorter than 32 characters (make one with: openssl rand -hex 32)");
  return k;
}

std::string randomToken() { return "fn0_" + randomHex(24); }

// The OpenID relying party from the flags (nullptr without --oidc-issuer).
// `listenUrl` is http://HOST:PORT as bound, the public URL's default.
std::unique_ptr<oidc::RelyingParty> openIdClient(const NodeConfig& c, const std::string& listenUrl, bool wildcard) {
  if (c.oidcIssuer.empty()) {
    if (!c.oidcClientId.empty() || !c.oidcAdmins.empty() || !c.oidcDeployers.empty() || !c.oidcViewers.empty())
      throw std::runtime_error("the --oidc-* options need --oidc-issuer");
    return nullptr;
  }
  if (c.publicUrl.empty() && wildcard)
    throw std::runtime_error("--oidc-issuer with --listen on every address needs --public-url (how browsers reach "
                             "this node: the provider sends them back to <public-url>/_fn0/auth/oidc/callback)");
  oidc::Config oc;
  oc.issuer = c.oidcIssuer;
  oc.clientId = c.oidcClientId;
  oc.caFile = c.oidcCaFile;
  oc.scopes = c.oidcScopes;
  oc.groupsClaim = c.oidcGroupsClaim;
  oc.displayName = c.oidcName.empty() ? "SSO" : c.oidcName.substr(0, 64);
  std::string base = c.publicUrl.empty() ? listenUrl : c.publicUrl;
  while (!base.empty() && base.back() == '/') base.pop_back();
  oc.redirectUri = base + "/_fn0/auth/oidc/callback";
  if (!c.oidcClientSecretFile.empty()) {
    std::ifstream in(c.oidcClientSecretFile);
    if (!in) throw std::runtime_error("cannot read --oidc-client-secret-file " + c.oidcClientSecretFile);
    std::getline(in, oc.clientSecret);
    while (!oc.clientSecret.empty() && (oc.clientSecret.back() == '\r' || oc.clientSecret.back() == ' '))
      oc.clientSecret.pop_back();
    if (oc.clientSecret.empty()) throw std::runtime_error("--oidc-client-secret-file " + c.oidcClientSecretFile + " is empty");
  } else if (const char* env = std::getenv("FN0_OIDC_CLIENT_SECRET"); env && *env) {
    oc.clientSecret = env;
  }
  oidc::RoleMap roles;
  for (const auto& [role, rules] : {std::pair{"admin", &c.oidcAdmins}, std::pair{"deployer", &c.oidcDeployers},
                                    std::pair{"viewer", &c.oidcViewers}})
    for (const auto& rule : *rules)
      if (auto ok = roles.add(role, rule); !ok) throw std::runtime_error("--oidc-" + std::string(role) + ": " + ok.error().message);
  auto rp = oidc::RelyingParty::create(std::move(oc), std::move(roles));
  if (!rp) throw std::runtime_error(rp.error().message);
  return std::move(*rp);
}

// Every connection is a descriptor: take the hard limit, not the default
// soft one (often 1024). The accept loop backs off when even that runs out.
void raiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::span<const uint8_t> bytesOf(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

int serve(const NodeConfig& c) {
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos) {
    fmt::print(stderr, "fn0 serve: --listen must be host:port, got '{}'\n", c.listen);
    return 2;
  }
  http::ServerConfig sc;
  sc.host = c.listen.substr(0, colon);
  sc.port = static_cast<uint16_t>(std::stoi(c.listen.substr(colon + 1)));
  // One I/O thread per core: cheap guests run inline on them. Guests that
  // need more CPU (a JS engine) run on the guest threads, half the cores:
  // more would fight the I/O threads (see docs/performance.md).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  sc.threads = c.threads ? c.threads : cores;
  sc.maxHeaderBytes = c.maxHeaderKb * 1024;
  sc.maxBodyBytes = c.maxBodyMb * 1000 * 1000;
  sc.headerTimeout = std::chrono::seconds(c.headerTimeoutSeconds);
  sc.idleTimeout = std::chrono::seconds(c.idleTimeoutSeconds);
  sc.bodyGrace = std::chrono::seconds(c.bodyGraceSeconds);
  sc.bodyMinRate = c.bodyMinRate;
  sc.maxConnectionsPerClient = c.maxClientConnections;
  raiseFileLimit();

  std::error_code ec;
  std::filesystem::create_directories(c.dataDir, ec);
  if (ec) {
    fmt::print(stderr, "fn0 serve: cannot create data directory {}: {}\n", c.dataDir.string(), ec.message());
    return 1;
  }
  runtime::EngineConfig ec2;
  ec2.maxMemoryBytes = c.memoryMb << 20;
  ec2.workerThreads = c.guestThreads ? c.guestThreads : std::max(1u, cores / 2);
  ec2.pooledInstances = c.pooledInstances ? c.pooledInstances
                                          : std::max<uint32_t>(c.maxConcurrency + 16, 64);  // + reuse pools' idle instances
  auto engine = runtime::Engine::create(ec2);
  if (!engine) {
    fmt::print(stderr, "fn0 serve: cannot create the engine: {}\n", engine.error().message);
    return 1;
  }
  // The code store: checked now, so a wrong secret, a missing bucket or an
  // unreachable server stops the node with its reason, not a later deploy;
  // and before the registry, whose first opening may make this node's
  // secrets key the registry's (a node that cannot start should not).
  std::unique_ptr<store::CodeStore> codeStore;
  if (c.storeUrl.empty()) {
    codeStore = store::openDirectoryStore(c.dataDir / "blobs");
  } else {
    auto opened = store::openCodeStore(c.storeUrl);
    if (!opened) {
      fmt::print(stderr, "fn0 serve: --store: {}\n", opened.error().message);
      return 2;
    }
    codeStore = std::move(*opened);
  }
  if (auto ok = codeStore->check(); !ok) {
    fmt::print(stderr, "fn0 serve: code store {}: {}\n", codeStore->describe(), ok.error().message);
    return 1;
  }
  std::optional<std::string> clusterKey;
  try {
    clusterKey = readClusterKey(c);
  } catch (const std::exception& e) {
    fmt::print(stderr, "fn0 serve: {}\n", e.what());
    return 2;
  }
  // Secrets are sealed in the registry with keys from this file; the
  // registry checks it holds every key its rows name (or makes it, for a
  // registry with no key yet) and seals values an older fn0 left in clear.
  const std::filesystem::path secretsKeyFile =
      c.secretsKeyFile.empty() ? c.dataDir / "secrets.key" : std::filesystem::path(c.secretsKeyFile);
  auto registry = registry::Registry::open(c.registryUrl, c.dataDir,
                                           std::make_shared<registry::SecretKeys>(secretsKeyFile));
  if (!registry) {
    fmt::print(stderr, "fn0 serve: {}\n", registry.error().message);
    return 1;
  }
  if (!c.storeUrl.empty() && !clusterKey)
    fmt::print(stderr, "fn0: no --cluster-key-file: compiled artifacts are not shared, every node compiles for itself\n");
  auto& reg = **registry;

  // Admin token: given (file or environment) or generated once.
  std::string token, metricsToken;
  try {
    token = readToken(c);
    metricsToken = readMetricsToken(c);
  } catch (const std::exception& e) {
    fmt::print(stderr, "fn0 serve: {}\n", e.what());
    return 2;
  }
  const auto tokenFile = c.dataDir / "admin-token";
  if (!token.empty()) {
    (void)reg.addTokenHash(sha256Hex(bytesOf(token)), "configured");
  } else if (auto n = reg.tokenCount(); n && *n == 0) {
    token = randomToken();
    (void)reg.addTokenHash(sha256Hex(bytesOf(token)), "generated");
    int fd = ::open(tokenFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      std::string line = token + "\n";
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
    fmt::print(stderr, "fn0: generated an admin token, saved in {} (mode 0600)\n", tokenFile.string());
  }

  runtime::ComponentCache cache(*engine, c.artifactsDir.empty() ? c.dataDir / "artifacts" : c.artifactsDir,
                                c.cacheMegabytes << 20);
  // Compile deploys in a child process of this binary: a compile bomb then
  // hits its own budget, not the node. Spawned through /proc/self/exe, not
  // the path it names: the kernel follows that link to the file this node
  // runs, so a binary moved or replaced while the node runs still compiles
  // with the node's own engine.
  std::error_code exeErr;
  const std::filesystem::path exe = "/proc/self/exe";
  (void)std::filesystem::read_symlink(exe, exeErr);
  if (!exeErr) {
    runtime::CompileBudget budget;
    budget.time = std::chrono::seconds(c.compileTimeoutSeconds);
    budget.memoryBytes = c.compileMemoryMb << 20;
    // Only the compile workers use the incremental compilation cache (the
    // node's engine would map every pack for nothing).
    runtime::EngineConfig workerConfig = ec2;
    if (c.compileCacheMb > 0) {
      workerConfig.compileCacheDir = c.compileCacheDir.empty() ? c.dataDir / "compile-cache" : c.compileCacheDir;
      workerConfig.compileCacheBytes = c.compileCacheMb << 20;
    }
    cache.compileInChildProcess(runtime::CompileIsolation{exe, workerConfig, budget});
  }
  // In a cluster too: the deploying node shares the optimized artifact
  // once its background compile made it, and a node that needed the
  // component before then compiles it with the baseline compiler and
  // downloads that artifact later (code::Library).
  if (c.tieredCompile) cache.compileBaselineFirst(runtime::kBaselineMinBytes);
  code::LibraryConfig lc;
  lc.storeIsLocal = c.storeUrl.empty();
  if (!lc.storeIsLocal) lc.clusterKey = clusterKey;  // alone, a node has nobody to share with
  lc.originalsCache = c.dataDir / "blobs";
  lc.diskBudgetBytes = c.diskCacheMb << 20;
  // A deploy marks its component for the garbage collector before storing
  // it (made below, once this node's id is known; no deploy comes before).
  std::unique_ptr<gc::Collector> collector;
  lc.beforeStore = [&collector](const std::string& hash) -> Result<void> {
    return collector ? collector->protectUpload(hash) : Result<void>{};
  };
  code::Library library(cache, *codeStore, lc);
  // Function logs: on disk by default, each node its own file; a
  // function's settings may keep less than the node does.
  std::shared_ptr<logs::LogWriter> logWriter;
  if (c.logRetentionMb > 0) {
    auto logStore = logs::LogStore::open(c.dataDir / "logs.db");
    if (!logStore) {
      fmt::print(stderr, "fn0 serve: {} (move the file away to start a new log, or run with --log-retention-mb 0)\n",
                 logStore.error().message);
      return 1;
    }
    logs::WriterOptions wo;
    wo.queueBytes = c.logQueueKb * 1024;
    const logs::Retention nodeRetention{c.logRetentionMb << 20, std::chrono::hours(c.logRetentionHours)};
    wo.retentionOf = [&reg, nodeRetention](const std::string& fn) -> std::optional<logs::Retention> {
      const auto catalog = reg.catalog();
      auto it = catalog->functions.find(fn);
      if (it == catalog->functions.end()) return std::nullopt;  // deleted (maybe through another node)
      return logRetention(nodeRetention, it->second.settings);
    };
    wo.onError = [](const Error& e) { fmt::print(stderr, "fn0: {}\n", e.message); };
    logWriter = std::make_shared<logs::LogWriter>(std::move(*logStore), std::move(wo));
  }
  auto logHubPart = logWriter ? std::make_unique<logs::LogHub>(logWriter)
                              : std::make_unique<logs::LogHub>(c.logKilobytesPerFunction * 1024);
  logs::LogHub& logHub = *logHubPart;
  runtime::Limits limits;
  limits.cpuTime = std::chrono::milliseconds(c.cpuMs);
  limits.duration = std::chrono::milliseconds(c.durationMs);
  limits.maxMemoryBytes = c.memoryMb << 20;
  limits.maxRequestBodyBytes = sc.maxBodyBytes;
  limits.maxRequestHeaderBytes = sc.maxHeaderBytes;
  limits.maxSubrequests = c.maxSubrequests;
  limits.reuseInstanceRequests = 10000;  // the most a function may opt into
  limits.instanceConcurrency = 100;      // likewise (WASI 0.3 components)

  dispatch::Router router(c.baseDomain);
  metrics::Metrics metrics;
  // Components missing on this node are fetched here (a download, maybe a
  // compile), never on the I/O threads.
  asio::thread_pool fetchPool(2);
  dispatch::Invoker invoker(*engine, cache, reg, library, fetchPool, logHub, metrics, limits, c.maxConcurrency,
                            c.maxFunctionConcurrency);
  // More than one, so one slow compile does not hold every other deploy.
  asio::thread_pool compilePool(c.compileThreads ? c.compileThreads : std::max(2u, cores / 4));
  // The admin API's registry calls (a database round trip each) run here.
  asio::thread_pool registryPool(2);
  // Reads of the log file (a text search may read many rows).
  asio::thread_pool logPool(1);
  http::AccessLog accessLog(c.accessLog ? stdout : nullptr, c.onRequest);
  invoker.useEnvOverlay(c.envOverlay.get());

  // The key-value store: SQLite next to the registry, or the registry's
  // PostgreSQL database (docs/kv.md).
  auto kvService = c.registryUrl.empty() ? kv::KvService::openSqlite((c.dataDir / "kv.db").string())
                                         : kv::KvService::openPostgres(c.registryUrl);
  if (!kvService) {
    fmt::print(stderr, "fn0 serve: {}\n", kvService.error().message);
    return 1;
  }
  kv::KvGuestApi kvApi(**kvService, kv::KvLimits{c.kvMaxKeyBytes, c.kvMaxValueBytes, c.kvMaxOperations, c.kvMaxBytes});
  engine->setKvHandler(&kv::KvGuestApi::handleCall);
  invoker.useKv(&kvApi);
  metrics.addNodeGauges([&] {
    auto v = kvApi.metrics().values();
    v.emplace_back("fn0_kv_queued", static_cast<double>(kvApi.service().queued()));
    return v;
  });

  std::unique_ptr<admin::AdminApi> adminApi;
  http::Server server(
      sc,
      [&](http::Exchange& ex) -> asio::awaitable<void> {
        auto route = router.route(ex.request().host, ex.request().target);
        if (route.kind == dispatch::Route::Platform) {
          co_await adminApi->serve(ex);
        } else if (route.kind == dispatch::Route::Function) {
          co_await invoker.serve(ex, route);
        } else {
          const std::string reason = "not-found";
          const std::string message =
              "no function here: use <function>." + router.baseDomain() + " or /<function>/ (see /_fn0/)";
          co_await dispatch::sendError(ex, 404, reason, message);
        }
      },
      accessLog);
  auto port = server.listen();
  if (!port) {
    fmt::print(stderr, "fn0 serve: {}\n", port.error().message);
    return 1;
  }
  if (auto l = engine->setListener(sc.host, *port); !l) {
    fmt::print(stderr, "fn0 serve: {}\n", l.error().message);
    return 1;
  }
  // In a cluster (a PostgreSQL registry): join the membership and let the
  // invoker send requests to peers that hold a function warm.
  std::unique_ptr<cluster::Cluster> clusterPart;
  if (reg.kind() == "postgres") {
    const bool wildcard = sc.host == "0.0.0.0" || sc.host == "::" || sc.host.empty();
    if (c.advertise.empty() && wildcard) {
      fmt::print(stderr, "fn0 serve: listening on {} in a cluster needs --advertise HOST:PORT (where peers reach "
                         "this node)\n", sc.host);
      return 2;
    }
    if (!c.advertise.empty() && c.advertise.rfind(':') == std::string::npos) {
      fmt::print(stderr, "fn0 serve: --advertise must be HOST:PORT, got '{}'\n", c.advertise);
      return 2;
    }
    cluster::ClusterConfig cc;
    cc.registryUrl = c.registryUrl;
    cc.self = c.advertise.empty() ? sc.host + ":" + std::to_string(*port) : c.advertise;
    cc.clusterKey = clusterKey.value_or("");
    cc.forward = c.forward;
    // A peer ends a guest at its duration limit; a cold start there may
    // first download and compile (a minute for a JS engine on a busy node).
    cc.waitForAnswer = std::chrono::milliseconds(c.durationMs) + std::chrono::seconds(60);
    cluster::Membership::Sources sources;
    sources.load = [&invoker] {
      return cluster::Membership::Load{invoker.admission().running(), invoker.admission().nodeLimit()};
    };
    sources.warmHashes = [&cache] { return cache.residentHashes(); };
    clusterPart = std::make_unique<cluster::Cluster>(cc, sources);
    server.setNodeId(cc.self);
    invoker.joinCluster(clusterPart.get());
    clusterPart->start();
    metrics.addNodeGauges([&clusterPart] { return clusterPart->gauges(); });
    if (c.forward && !clusterKey)
      fmt::print(stderr, "fn0: no --cluster-key-file: this node does not forward requests to its peers\n");
    fmt::print(stderr, "fn0: cluster member {} ({})\n", cc.self,
               clusterPart->forwarding() ? "forwards to warm peers" : "runs what it receives");
  }
  std::unique_ptr<oidc::RelyingParty> openId;
  try {
    const bool wildcard = sc.host == "0.0.0.0" || sc.host == "::" || sc.host.empty();
    const bool v6 = sc.host.find(':') != std::string::npos;
    openId = openIdClient(c, "http://" + (v6 ? "[" + sc.host + "]" : sc.host) + ":" + std::to_string(*port), wildcard);
  } catch (const std::exception& e) {
    fmt::print(stderr, "fn0 serve: {}\n", e.what());
    return 2;
  }
  if (openId)
    fmt::print(stderr, "fn0: people log in through {} (client {}, back at {}; {})\n", openId->config().issuer,
               openId->config().clientId, openId->config().redirectUri, openId->roles().describe());
  gc::CollectorConfig gcc;
  gcc.keepVersions = c.keepVersions;
  gcc.grace = std::chrono::seconds(c.gcGraceSeconds);
  gcc.holder = clusterPart ? clusterPart->self() : sc.host + ":" + std::to_string(*port);
  // fn0 dev's artifacts folder is shared by every project on the machine:
  // not this node's to sweep.
  if (c.artifactsDir.empty()) gcc.localArtifacts = cache.artifactDir();
  if (!lc.storeIsLocal) gcc.localOriginals = lc.originalsCache;
  collector = std::make_unique<gc::Collector>(reg, *codeStore, gcc);
  metrics.addNodeGauges([&collector] {
    const auto s = collector->stats();
    return std::vector<std::pair<std::string, double>>{
        {"fn0_gc_runs_total", static_cast<double>(s.runs)},
        {"fn0_gc_deleted_versions_total", static_cast<double>(s.versionsDeleted)},
        {"fn0_gc_deleted_objects_total", static_cast<double>(s.objectsDeleted)},
        {"fn0_gc_freed_bytes_total", static_cast<double>(s.bytesFreed)},
        {"fn0_gc_failures_total", static_cast<double>(s.failures)},
    };
  });
  admin::AdminDeps deps{reg, library, cache, logHub, metrics, compilePool, registryPool, c.baseDomain, *port, 512ull << 20, 8,
                        metricsToken.empty() ? "" : sha256Hex(bytesOf(metricsToken))};
  deps.admission = &invoker.admission();
  deps.nodeLimits = limits;
  deps.cluster = clusterPart.get();
  deps.kv = kvService->get();
  deps.kvLimits = kvApi.nodeLimits();
  deps.auditDays = c.auditDays;
  deps.logPool = &logPool;
  deps.logRetentionMb = c.logRetentionMb;
  deps.logRetentionHours = c.logRetentionHours;
  deps.gc = collector.get();
  deps.oidc = openId.get();
  adminApi = std::make_unique<admin::AdminApi>(std::move(deps));
  metrics.addNodeGauges([&] {
    auto s = cache.stats();
    return std::vector<std::pair<std::string, double>>{
        {"fn0_cache_entries", static_cast<double>(s.entries)},
        {"fn0_cache_bytes", static_cast<double>(s.bytes)},
        {"fn0_cache_evictions_total", static_cast<double>(s.evictions)},
        {"fn0_connections", static_cast<double>(server.activeConnections())},
        {"fn0_compiles_total", static_cast<double>(s.compiles)},
        {"fn0_baseline_compiles_total", static_cast<double>(s.baselineCompiles)},
        {"fn0_baseline_optimized_total", static_cast<double>(s.optimized)},
        {"fn0_baseline_optimize_failures_total", static_cast<double>(s.optimizeFailures)},
    };
  });
  metrics.addNodeGauges([&] {
    const auto l = library.stats();
    const auto w = reg.watchStats();
    const auto cat = reg.catalog();
    return std::vector<std::pair<std::string, double>>{
        {"fn0_artifact_downloads_total", static_cast<double>(l.artifactDownloads)},
        {"fn0_artifact_rejected_total", static_cast<double>(l.artifactRejected)},
        {"fn0_artifact_uploads_total", static_cast<double>(l.artifactUploads)},
        {"fn0_artifact_upload_failures_total", static_cast<double>(l.uploadFailures)},
        {"fn0_component_downloads_total", static_cast<double>(l.originalDownloads)},
        {"fn0_fetch_compiles_total", static_cast<double>(l.fetchCompiles)},
        {"fn0_disk_cache_evictions_total", static_cast<double>(l.evictedFiles)},
        {"fn0_registry_generation", static_cast<double>(cat->generation)},
        {"fn0_registry_connected", (w.connected || !w.watching) ? 1.0 : 0.0},
        {"fn0_registry_reloads_total", static_cast<double>(w.reloads)},
        {"fn0_registry_reconnects_total", static_cast<double>(w.reconnects)},
        {"fn0_registry_secrets_unreadable", static_cast<double>(w.secretsUnreadable)},
    };
  });
  metrics.addNodeGauges([&] {
    const auto s = logWriter ? logWriter->stats() : logs::LogWriter::Stats{};
    return std::vector<std::pair<std::string, double>>{
        {"fn0_log_lines_written_total", static_cast<double>(s.written)},
        {"fn0_log_lines_dropped_total", static_cast<double>(s.dropped)},
        {"fn0_log_lines_deleted_total", static_cast<double>(s.deleted)},
        {"fn0_log_queue_bytes", static_cast<double>(s.queuedBytes)},
        {"fn0_log_write_errors_total", static_cast<double>(s.writeErrors)},
    };
  });
  metrics.addNodeGauges([&] {
    auto s = server.stats();
    return std::vector<std::pair<std::string, double>>{
        {"fn0_http_connection_failures_total", static_cast<double>(s.connectionFailures)},
        {"fn0_http_refused_requests_total", static_cast<double>(s.badRequests)},
        {"fn0_http_client_limit_total", static_cast<double>(s.refusedClients)},
        {"fn0_http_accept_errors_total", static_cast<double>(s.acceptErrors)},
        {"fn0_http_head_timeouts_total", static_cast<double>(s.headTimeouts)},
        {"fn0_http_body_timeouts_total", static_cast<double>(s.bodyTimeouts)},
    };
  });

  std::thread leaver;
  asio::signal_set signals(server.executor(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int sig) {
    if (e) return;
    fmt::print(stderr, "fn0: {} received, finishing in-flight requests\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    // Peers stop sending here at once (their next read), not after the
    // heartbeat timeout; off this I/O thread (a database round trip).
    if (clusterPart) leaver = std::thread([&clusterPart] { clusterPart->leave(); });
    server.stop();
  });
  fmt::print(stderr, "fn0 {} (wasmtime {}) listening on http://{}:{}/ (data {}, base domain {}, registry {}, store {})\n",
             kVersion, runtime::wasmtimeVersion(), sc.host, *port, c.dataDir.string(), c.baseDomain, reg.kind(),
             codeStore->describe());
  server.run();
  if (leaver.joinable()) leaver.join();
  if (clusterPart) clusterPart->leave();
  compilePool.join();
  registryPool.join();
  logPool.join();
  fetchPool.join();
  // The lines still queued are stored before what retention reads goes.
  if (logWriter) logWriter->close();
  // Finishes the key-value jobs still queued while what they report to lives.
  kvService->reset();
  fmt::print(stderr, "fn0: stopped\n");
  return 0;
}

}  // namespace fn0::node
