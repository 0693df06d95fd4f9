// The registry: functions, immutable versions, aliases (`live` and named
// ones), environment variables, write-only secrets and admin tokens (stored
// hashed). In SQLite (one node, the data directory) or PostgreSQL (shared by
// a cluster); the same schema, migrations and statements on both (sql.h).
// Every write is one transaction, so a crash never leaves a half-made
// version; after each write a fresh in-memory Catalog is published for the
// request path, which never waits on the database. On PostgreSQL every write
// also notifies the other nodes, whose watcher reloads their catalog (and
// resyncs after any reconnect: a notification is not durable).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/result.h"

namespace fn0::registry {

// Function names and alias names are DNS labels: lowercase letters, digits
// and hyphens, 1-63 characters, not starting or ending with a hyphen.
bool isDnsLabel(const std::string& s);
// The rule in one sentence, the same wherever a name is refused (API, CLI).
inline constexpr const char* kFunctionNameRule =
    "a function name is a DNS label: lowercase letters, digits and hyphens, at most 63 characters, not starting or "
    "ending with a hyphen";
// An alias may not look like a version ("v12") nor be reserved words.
bool isValidAliasName(const std::string& s);

// Per-function settings: limits that tighten the node's (never lift them:
// the invoker clamps) and outbound destinations allowed despite being
// private. Unset fields fall back to the node's values.
struct FunctionSettings {
  std::optional<uint64_t> cpuMs, durationMs, memoryMb, maxSubrequests, reuseInstanceRequests, maxConcurrency,
      instanceConcurrency;
  // The key-value store's limits (src/kv/guest_api.h KvLimits).
  std::optional<uint64_t> kvMaxKeyBytes, kvMaxValueBytes, kvMaxOperations, kvMaxBytes;
  // Its persistent logs: at most this many MiB and hours on each node
  // (tightens --log-retention-mb and --log-retention-hours).
  std::optional<uint64_t> logRetentionMb, logRetentionHours;
  std::vector<std::string> allow;  // CIDRs
  // Shared key-value buckets this function may open (besides its own).
  std::vector<std::string> kvBuckets;
  // Parses the JSON the API accepts; errors name the bad field and its
  // allowed range. Every number is range-checked here, so nothing later
  // (a conversion to nanoseconds or bytes) can overflow.
  static Result<FunctionSettings> fromJson(const std::string& json);
  std::string toJson() const;
};

// The range each numeric setting may take (inclusive), whatever the node's
// own limits: values above the node's are accepted and clamped when used.
// openapi.json documents the same numbers (a unit test compares them).
struct SettingRange {
  const char* name;
  uint64_t min, max;
};
const std::vector<SettingRange>& settingRanges();
inline constexpr size_t kMaxAllowEntries = 64, kMaxAllowEntryBytes = 128;
// Shared bucket names: DNS labels (isDnsLabel), at most this many.
inline constexpr size_t kMaxKvBuckets = 16;

// Environment variable and secret names: [A-Za-z_][A-Za-z0-9_]*, at most
// kMaxVarNameBytes (what POSIX and every guest language accept as a name: no
// '=', no NUL, ASCII and so UTF-8). Values: UTF-8 without NUL, at most
// kMaxVarValueBytes; a function has at most kMaxVarsPerFunction of them
// (variables and secrets together). Each becomes part of every instance.
inline constexpr size_t kMaxVarNameBytes = 256, kMaxVarValueBytes = 32 * 1024, kMaxVarsPerFunction = 256;
// Errors say what is wrong, for a 400.
Result<void> checkVarName(const std::string& name);
Result<void> checkVarValue(const std::string& value);
bool isValidUtf8(std::string_view s);

struct VersionInfo {
  int64_t number = 0;  // v1, v2, ... per function
  std::string hash;    // sha256 of the component
  int64_t size = 0;
  int64_t createdAt = 0;  // unix seconds
  std::string createdBy;  // who deployed it (a token's name, a person; "" before fn0 recorded it)
};

struct FunctionInfo {
  std::string name;
  int64_t createdAt = 0;
  std::vector<VersionInfo> versions;        // oldest first
  std::map<std::string, int64_t> aliases;   // includes "live" when set
  std::map<std::string, std::string> env;
  std::vector<std::string> secretNames;     // values are never read back
  FunctionSettings settings;
};

// An API token (tokens.cc): its secret is shown once and only its sha256 is
// stored. `role` is admin, deployer or viewer; a deployer may deploy (and
// move aliases of) only the functions in `functions` (exact names or
// "prefix*"; empty: every function).
struct TokenInfo {
  std::string id;    // public: the first 12 hex digits of its hash
  std::string name;  // what it is for ("ci-hello")
  std::string role;
  std::vector<std::string> functions;
  std::string createdBy;
  int64_t createdAt = 0, lastUsedAt = 0;  // unix seconds; lastUsedAt 0: never (written at most once a minute)
  bool covers(const std::string& function) const;
};
inline constexpr const char* kRoles[] = {"admin", "deployer", "viewer"};
bool isRole(const std::string& r);

// One admin action (audit.cc).
struct AuditEntry {
  int64_t id = 0;     // increasing
  int64_t atMs = 0;   // unix milliseconds
  std::string actor;  // a token's name, a person's e-mail
  std::string via;    // token, session
  std::string role;
  std::string action;    // deploy, alias.set, env.set, secret.delete, token.create, login, ...
  std::string function;  // the function acted on, "" for none
  std::string detail;    // JSON object: version, alias, variable name (never a value)
  std::string client;    // the client's address
  std::string requestId;
  int64_t status = 0;  // the HTTP status answered
};
struct AuditQuery {
  std::string function, actor, action;  // "" = any
  int64_t beforeId = 0;                 // 0 = newest
  int64_t sinceMs = 0;
  size_t limit = 100;
};

// The routing view: everything a request needs, immutable once published.
struct Catalog {
  struct Function {
    std::string name;
    std::unordered_map<std::string, int64_t> aliases;
    std::unordered_map<int64_t, std::string> versionHashes;
    std::vector<std::pair<std::string, std::string>> env;  // env vars + secrets
    FunctionSettings settings;
  };
  std::unordered_map<std::string, Function> functions;
  std::unordered_map<std::string, TokenInfo> tokens;  // by sha256 hex of the token
  int64_t generation = -1;                       // bumped by every write; a newer catalog replaces an older one
};

class SqlConnection;
class SecretKeys;  // secret_keys.h
class CodeRefs;  // code_refs.h

// Error::code of a write or read the database could not take: answered
// with 503 and this fn0-error.
inline constexpr const char* kRegistryUnavailable = "registry-unavailable";

class Registry {
 public:
  // `url` "" or "sqlite:" : SQLite in dataDir/registry.db; "postgres://..."
  // or "postgresql://...": PostgreSQL, watched for other nodes' changes.
  // Errors name the problem (unreachable server, unknown database, bad URL).
  // `keys` seal and open secret values (secrets_at_rest.cc): opening checks
  // that they open every secret stored, seals any stored in clear by an
  // older fn0, and may create the key file (only for a registry that has no
  // sealed secret yet). nullptr only for tools that need just the schema
  // (a bench): secrets then stay out of the catalog and cannot be set.
  static Result<std::unique_ptr<Registry>> open(const std::string& url, const std::filesystem::path& dataDir,
                                                std::shared_ptr<SecretKeys> keys);
  static Result<std::unique_ptr<Registry>> openSqlite(const std::filesystem::path& file,
                                                      std::shared_ptr<SecretKeys> keys);
  ~Registry();

  // "sqlite" or "postgres".
  const std::string& kind() const { return kind_; }

  struct Added {
    VersionInfo version;
    bool created;  // false: this function already had a version with these bytes
  };
  // Creates the function if needed and a version for `hash` (idempotent: the
  // same bytes give the existing version); moves `live` to it if `makeLive`.
  // `createdBy`: who deploys (kept with the version, shown in its listing).
  Result<Added> addVersion(const std::string& function, const std::string& hash, int64_t size, bool makeLive,
                           const std::string& createdBy = "");
  Result<void> setAlias(const std::string& function, const std::string& alias, int64_t version);
  Result<bool> deleteAlias(const std::string& function, const std::string& alias);
  Result<bool> deleteFunction(const std::string& function);
  Result<void> setEnv(const std::string& function, const std::string& key, const std::string& value);
  Result<bool> unsetEnv(const std::string& function, const std::string& key);
  Result<void> setSecret(const std::string& function, const std::string& key, const std::string& value);
  Result<bool> deleteSecret(const std::string& function, const std::string& key);
  Result<void> setSettings(const std::string& function, const FunctionSettings& settings);

  Result<std::optional<FunctionInfo>> function(const std::string& name);
  Result<std::vector<FunctionInfo>> functions();

  // API tokens (tokens.cc). addTokenHash: an admin token named `note`
  // (configured or generated at start-up; nothing happens if it exists).
  Result<void> addTokenHash(const std::string& sha256, const std::string& note);
  Result<TokenInfo> addToken(const std::string& sha256, TokenInfo info);
  Result<std::vector<TokenInfo>> tokens();
  // false: no token with that id. Refused (an error) for the last admin token.
  Result<bool> revokeToken(const std::string& id);
  // Records a use, at most once a minute per token (no catalog reload).
  void touchToken(const std::string& sha256);
  // From the catalog: no database round trip, works while it is away.
  bool hasTokenHash(const std::string& sha256) const;
  std::optional<TokenInfo> token(const std::string& sha256) const;
  Result<int64_t> tokenCount();

  // The audit log (audit.cc): appended after each admin action, read
  // newest first; entries older than `keepDays` go in purgeAudit().
  Result<void> addAudit(const AuditEntry& e);
  Result<std::vector<AuditEntry>> audit(const AuditQuery& q);
  Result<int64_t> purgeAudit(int64_t keepDays);

  std::shared_ptr<const Catalog> catalog() const;

  // Dashboard sessions (sessions.cc). Kept in the registry so that every
  // node of a cluster knows them; outside the catalog (no reload, no
  // notification: each lookup reads the table).
  struct Session {
    std::string idHash;     // sha256 hex of the cookie value
    std::string csrf;       // the token state-changing requests must echo
    std::string role;       // admin, deployer, viewer
    std::string subject;    // who: a token's name, an e-mail
    std::string tokenHash;  // the token it was made with ("" for OIDC): revoking the token ends it
    int64_t createdAt = 0, expiresAt = 0;  // unix seconds
    // An OIDC login's person as the provider described them (JSON: sub,
    // email, email_verified, groups), "" for a token's session.
    std::string person;
  };
  Result<void> createSession(const Session& s);
  // The session, std::nullopt when there is none or it has expired.
  Result<std::optional<Session>> session(const std::string& idHash);
  Result<bool> deleteSession(const std::string& idHash);
  // Deletes expired sessions; how many went.
  Result<int64_t> purgeSessions();

  // OIDC logins in progress (oidc_logins.cc): a browser's code flow between
  // /start and /callback, a CLI's device grant between its start and the
  // poll that ends it. Keyed by the sha256 of the state or handle.
  struct OidcLogin {
    std::string idHash;
    std::string kind;         // "code", "device"
    std::string nonce;        // code: sent in the request, must come back in the ID token
    std::string verifier;     // code: the PKCE verifier
    std::string bindingHash;  // code: sha256 of the browser's binding cookie
    std::string deviceCode;   // device: what the token endpoint is polled with
    int64_t pollInterval = 5;  // device: seconds between polls
    int64_t createdAt = 0, expiresAt = 0;
  };
  // Also deletes the expired ones.
  Result<void> addOidcLogin(const OidcLogin& l);
  // The login, std::nullopt when there is none or it has expired.
  Result<std::optional<OidcLogin>> oidcLogin(const std::string& idHash);
  // Reads and deletes it: of two callers (a replayed callback, two nodes)
  // only one gets it.
  Result<std::optional<OidcLogin>> takeOidcLogin(const std::string& idHash);
  Result<void> setOidcPollInterval(const std::string& idHash, int64_t seconds);
  // Secrets at rest (secrets_at_rest.cc; docs/secrets.md).
  struct SecretsStatus {
    std::string keyId;                           // new values are sealed with it ("" before any)
    std::map<std::string, int64_t> valuesByKey;  // key id -> values it sealed
    int64_t clear = 0;                           // stored in clear (never after an open with keys)
  };
  Result<SecretsStatus> secretsStatus();
  // Seals every secret with the key `keyId` (held in the key file) and makes
  // it the key new values are sealed with, in one transaction; then has the
  // database drop the old rows' bytes (SQLite VACUUM, PostgreSQL VACUUM FULL
  // of the table). Returns how many values were sealed again.
  Result<int64_t> rotateSecrets(const std::string& keyId);

  // How the watcher (PostgreSQL only) is doing, for metrics and status.
  struct WatchStats {
    bool watching = false;   // a PostgreSQL registry (false: SQLite)
    bool connected = false;  // listening for changes now
    uint64_t reloads = 0, reconnects = 0, failures = 0;
    // Secrets the last catalog could not open (a key this node lacks, an
    // altered row): each one named once on stderr.
    uint64_t secretsUnreadable = 0;
  };
  WatchStats watchStats() const;

 private:
  // CodeRefs (code_refs.cc, the garbage collector's statements) runs on
  // the same connection: `f` alone (its own transactions), or inside a
  // write (generation bumped, other nodes told, catalog republished).
  friend class CodeRefs;
  Result<void> onConnection(const std::function<Result<void>(SqlConnection&)>& f);
  Result<void> inWrite(const std::function<Result<void>(SqlConnection&)>& f);

  Registry(std::unique_ptr<SqlConnection> db, std::string kind);
  Result<void> migrate();
  // Runs `f` in one write transaction (generation bumped, other nodes
  // notified), retrying once on a fresh connection if the server went away,
  // then republishes the catalog.
  template <typename T, typename F>
  Result<T> write(F&& f);
  // Runs `f` on the connection (reopened if the server went away).
  template <typename T, typename F>
  Result<T> withConnection(F&& f);
  // Rebuilds the Catalog from `c` in one snapshot and publishes it unless
  // the one published is as new. Throws SqlError.
  void reload(SqlConnection& c);
  void watch(std::string url);  // the watcher thread's loop (watcher.cc)
  std::optional<FunctionInfo> functionIn(SqlConnection& c, const std::string& name);
  Result<void> upsertVar(const char* table, const std::string& function, const std::string& key,
                         const std::string& value);
  Result<bool> deleteVar(const char* table, const std::string& function, const std::string& key);
  // secrets_at_rest.cc: the checks and the sealing of clear values at open;
  // a secret written sealed; the catalog's secrets opened; the database's
  // copies of old rows dropped.
  Result<void> setUpSecrets();
  Result<void> upsertSecret(SqlConnection& db, const std::string& function, const std::string& key,
                            const std::string& value);
  void loadSecrets(SqlConnection& db, Catalog& into, uint64_t& unreadable);
  void compactSecrets(SqlConnection& db);

  std::unique_ptr<SqlConnection> db_;
  const std::string kind_;
  std::shared_ptr<SecretKeys> keys_;
  std::mutex reportedMu_;
  std::unordered_set<std::string> reported_;  // secret problems already on stderr
  mutable std::mutex mu_;  // serialises use of db_
  mutable std::mutex catalogMu_;
  std::shared_ptr<const Catalog> catalog_;
  WatchStats watch_;  // under catalogMu_
  std::atomic<bool> stop_{false};
  std::mutex touchMu_;
  std::unordered_map<std::string, int64_t> touched_;  // token hash -> when its use was last written
  std::thread watcher_;
};

}  // namespace fn0::registry
