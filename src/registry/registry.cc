#include "registry/registry.h"

#include <chrono>
#include <cstring>

#include "common/failpoint.h"
#include "registry/sql.h"
#include "registry/transactions.h"

namespace fn0::registry {

namespace {

// Schema migrations, applied in order; the connection records how many ran.
// {BIGINT} is the dialect's 64-bit integer (INTEGER in SQLite, as before).
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE functions (
      name TEXT PRIMARY KEY,
      created_at {BIGINT} NOT NULL,
      next_version {BIGINT} NOT NULL DEFAULT 1
    );
    CREATE TABLE versions (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      number {BIGINT} NOT NULL,
      hash TEXT NOT NULL,
      size {BIGINT} NOT NULL,
      created_at {BIGINT} NOT NULL,
      PRIMARY KEY (function, number)
    );
    CREATE INDEX versions_by_hash ON versions(function, hash);
    CREATE TABLE aliases (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      version {BIGINT} NOT NULL,
      updated_at {BIGINT} NOT NULL,
      PRIMARY KEY (function, name),
      FOREIGN KEY (function, version) REFERENCES versions(function, number)
    );
    CREATE TABLE env (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (function, name)
    );
    CREATE TABLE secrets (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (function, name)
    );
    CREATE TABLE tokens (
      hash TEXT PRIMARY KEY,
      note TEXT NOT NULL,
      created_at {BIGINT} NOT NULL
    );
    )sql",
    // 2: per-function settings (limits, allowed destinations) as JSON.
    R"sql(
    ALTER TABLE functions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    )sql",
    // 3: a generation every write bumps: it orders catalogs (an older reload
    // never replaces a newer one) and serialises writers across nodes.
    R"sql(
    CREATE TABLE registry_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation {BIGINT} NOT NULL);
    INSERT INTO registry_state(id, generation) VALUES (1, 0);
    )sql",
    // 4: cluster membership (src/cluster/membership.cc): one row per node,
    // its beat on the database clock, its load and warm set.
    R"sql(
    CREATE TABLE cluster_nodes (
      id TEXT PRIMARY KEY,
      address TEXT NOT NULL,
      started_ms {BIGINT} NOT NULL,
      heartbeat_ms {BIGINT} NOT NULL,
      state TEXT NOT NULL,
      running {BIGINT} NOT NULL DEFAULT 0,
      capacity {BIGINT} NOT NULL DEFAULT 0,
      warm_count {BIGINT} NOT NULL DEFAULT 0,
      warm_gen {BIGINT} NOT NULL DEFAULT 0,
      warm TEXT NOT NULL DEFAULT ''
    );
    )sql",
    // 5: dashboard sessions (sessions.cc): the cookie's sha256, never the
    // cookie itself. Not part of the catalog: a login does not make every
    // node reload.
    R"sql(
    CREATE TABLE sessions (
      id_hash TEXT PRIMARY KEY,
      csrf TEXT NOT NULL,
      role TEXT NOT NULL,
      subject TEXT NOT NULL,
      token_hash TEXT NOT NULL DEFAULT '',
      created_at {BIGINT} NOT NULL,
      expires_at {BIGINT} NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions(expires_at);
    )sql",
    // 6: named tokens with a role (admin, deployer, viewer) and, for a
    // deployer, the functions it may deploy (tokens.cc). Earlier tokens
    // were all admin tokens; their public id is the start of their hash.
    R"sql(
    ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
    ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
    ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
    ALTER TABLE tokens ADD COLUMN functions TEXT NOT NULL DEFAULT '';
    ALTER TABLE tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE tokens ADD COLUMN last_used_at {BIGINT} NOT NULL DEFAULT 0;
    UPDATE tokens SET id = substr(hash, 1, 12), name = note;
    CREATE UNIQUE INDEX tokens_by_id ON tokens(id);
    )sql",
    // 7: the audit log (audit.cc): every admin action, who, when, from where.
    R"sql(
    CREATE TABLE audit (
      id {AUTOID},
      at_ms {BIGINT} NOT NULL,
      actor TEXT NOT NULL,
      via TEXT NOT NULL,
      role TEXT NOT NULL,
      action TEXT NOT NULL,
      function TEXT NOT NULL,
      detail TEXT NOT NULL,
      client TEXT NOT NULL,
      request_id TEXT NOT NULL,
      status {BIGINT} NOT NULL
    );
    CREATE INDEX audit_by_function ON audit(function, id);
    CREATE INDEX audit_by_time ON audit(at_ms);
    )sql",
    // 8: garbage collection (src/gc/, code_refs.h): a mark per component
    // deploys are storing (how many), written before its objects (so a
    // collector that runs before the version row exists keeps them), and
    // the one row that says which node collects now and whether it deletes.
    R"sql(
    CREATE TABLE code_uploads (hash TEXT PRIMARY KEY, pending {BIGINT} NOT NULL, at_ms {BIGINT} NOT NULL);
    CREATE TABLE gc_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      holder TEXT NOT NULL,
      lease_until_ms {BIGINT} NOT NULL,
      deleting_until_ms {BIGINT} NOT NULL,
      uploads {BIGINT} NOT NULL
    );
    INSERT INTO gc_state(id, holder, lease_until_ms, deleting_until_ms, uploads) VALUES (1, '', 0, 0, 0);
    )sql",
    // 9: secrets sealed at rest (secrets_at_rest.cc): the key that sealed
    // each value (NULL: a value an older fn0 stored in clear, sealed at the
    // next open) and the key new values are sealed with.
    R"sql(
    ALTER TABLE secrets ADD COLUMN key_id TEXT;
    ALTER TABLE registry_state ADD COLUMN secrets_key_id TEXT;
    )sql",
    // 10: who deployed each version (versions made before say "").
    R"sql(
    ALTER TABLE versions ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
    )sql",
    // 11: OIDC logins (oidc_logins.cc): the logins in progress, so that any
    // node of a cluster finishes one another node began (the code flow's
    // state, nonce, PKCE verifier and browser binding; the device grant's
    // handle and device code), and what the provider said about a session's
    // person, so each request maps it to a role with the rules in force.
    R"sql(
    CREATE TABLE oidc_logins (
      id_hash TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      nonce TEXT NOT NULL DEFAULT '',
      verifier TEXT NOT NULL DEFAULT '',
      binding_hash TEXT NOT NULL DEFAULT '',
      device_code TEXT NOT NULL DEFAULT '',
      poll_interval {BIGINT} NOT NULL DEFAULT 5,
      created_at {BIGINT} NOT NULL,
      expires_at {BIGINT} NOT NULL
    );
    CREATE INDEX oidc_logins_by_expiry ON oidc_logins(expires_at);
    ALTER TABLE sessions ADD COLUMN person TEXT NOT NULL DEFAULT '';
    )sql",
};

// {BIGINT}: a 64-bit integer; {AUTOID}: an integer primary key the
// database numbers (increasing, never reused).
std::string withDialect(std::string sql, SqlConnection::Dialect d) {
  const bool pg = d == SqlConnection::Dialect::Postgres;
  const std::pair<const char*, const char*> words[] = {
      {"{BIGINT}", pg ? "BIGINT" : "INTEGER"},
      {"{AUTOID}", pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"}};
  for (const auto& [word, text] : words)
    for (size_t at; (at = sql.find(word)) != std::string::npos;) sql.replace(at, std::strlen(word), text);
  return sql;
}

}  // namespace

Registry::Registry(std::unique_ptr<SqlConnection> db, std::string kind) : db_(std::move(db)), kind_(std::move(kind)) {}

Registry::~Registry() {
  stop_ = true;
  if (watcher_.joinable()) watcher_.join();
}

Result<std::unique_ptr<Registry>> Registry::openSqlite(const std::filesystem::path& file,
                                                     std::shared_ptr<SecretKeys> keys) {
  try {
    std::unique_ptr<Registry> r(new Registry(registry::openSqlite(file.string()), "sqlite"));
    r->keys_ = std::move(keys);
    std::lock_guard lock(r->mu_);
    if (auto m = r->migrate(); !m) return m.error();
    if (auto s = r->setUpSecrets(); !s) return s.error();
    r->reload(*r->db_);
    return r;
  } catch (const SqlError& e) {
    return errorOf(e);
  }
}

Result<std::unique_ptr<Registry>> Registry::open(const std::string& url, const std::filesystem::path& dataDir,
                                               std::shared_ptr<SecretKeys> keys) {
  if (url.empty() || url == "sqlite:") return openSqlite(dataDir / "registry.db", std::move(keys));
  if (url.rfind("postgres://", 0) != 0 && url.rfind("postgresql://", 0) != 0)
    return Error{"--registry must be postgres://USER@HOST:PORT/DB (or empty for SQLite in the data directory), got '" +
                 url.substr(0, 200) + "'"};
  try {
    std::unique_ptr<Registry> r(new Registry(openPostgres(url), "postgres"));
    r->keys_ = std::move(keys);
    {
      std::lock_guard lock(r->mu_);
      if (auto m = r->migrate(); !m) return m.error();
      if (auto s = r->setUpSecrets(); !s) return s.error();
      r->reload(*r->db_);
    }
    {
      std::lock_guard lock(r->catalogMu_);
      r->watch_.watching = true;
    }
    r->watcher_ = std::thread([reg = r.get(), url] { reg->watch(url); });
    return r;
  } catch (const SqlError& e) {
    return Error{e.what(), e.unavailable() ? kRegistryUnavailable : ""};
  }
}

Result<void> Registry::migrate() {
  try {
    SqlTransaction tx(*db_, SqlConnection::Tx::Write);
    db_->lockForMigration();
    int current = db_->schemaVersion();
    const int target = static_cast<int>(std::size(kMigrations));
    if (current > target)
      return Error{"registry schema version " + std::to_string(current) + " is newer than this fn0 (" +
                   std::to_string(target) + ")"};
    for (int i = current; i < target; i++) {
      db_->script(withDialect(kMigrations[i], db_->dialect()));
      db_->setSchemaVersion(i + 1);
    }
    tx.commit();
    return {};
  } catch (const SqlError& e) {
    return errorOf(e);
  }
}

Result<void> Registry::onConnection(const std::function<Result<void>(SqlConnection&)>& f) {
  return withConnection<void>(f);
}

Result<void> Registry::inWrite(const std::function<Result<void>(SqlConnection&)>& f) { return write<void>(f); }

Result<Registry::Added> Registry::addVersion(const std::string& function, const std::string& hash, int64_t size,
                                             bool makeLive, const std::string& createdBy) {
  if (!isDnsLabel(function)) return Error{"invalid function name: " + function};
  return write<Added>([&](SqlConnection& db) -> Result<Added> {
    db.exec("INSERT INTO functions(name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", {function, now()});
    Added out{};
    auto found = db.query("SELECT number, size, created_at, created_by FROM versions WHERE function=$1 AND hash=$2",
                          {function, hash});
    if (!found.empty()) {
      out.version = {found[0].integer(0), hash, found[0].integer(1), found[0].integer(2), found[0].text(3)};
      out.created = false;
    } else {
      auto next = db.query("UPDATE functions SET next_version = next_version + 1 WHERE name=$1 RETURNING next_version",
                           {function});
      const int64_t number = next.at(0).integer(0) - 1;
      const int64_t at = now();
      db.exec("INSERT INTO versions(function, number, hash, size, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
              {function, number, hash, size, at, createdBy});
      out.version = {number, hash, size, at, createdBy};
      out.created = true;
    }
    // The deploy's mark (code_refs.h) has done its work: from this commit
    // on the version row references the hash.
    db.exec("UPDATE code_uploads SET pending = pending - 1 WHERE hash=$1", {hash});
    db.exec("DELETE FROM code_uploads WHERE hash=$1 AND pending <= 0", {hash});
    failpoint("registry:in-transaction");
    if (makeLive)
      db.exec("INSERT INTO aliases(function, name, version, updated_at) VALUES ($1, 'live', $2, $3) "
              "ON CONFLICT(function, name) DO UPDATE SET version=excluded.version, updated_at=excluded.updated_at",
              {function, out.version.number, now()});
    return out;
  });
}

Result<void> Registry::setAlias(const std::string& function, const std::string& alias, int64_t version) {
  if (!isValidAliasName(alias)) return Error{"invalid alias name: " + alias};
  return write<void>([&](SqlConnection& db) -> Result<void> {
    if (db.query("SELECT 1 FROM versions WHERE function=$1 AND number=$2", {function, version}).empty())
      return Error{"no version v" + std::to_string(version) + " of " + function};
    db.exec("INSERT INTO aliases(function, name, version, updated_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT(function, name) DO UPDATE SET version=excluded.version, updated_at=excluded.updated_at",
            {function, alias, version, now()});
    return {};
  });
}

Result<bool> Registry::deleteAlias(const std::string& function, const std::string& alias) {
  return write<bool>([&](SqlConnection& db) -> Result<bool> {
    return db.exec("DELETE FROM aliases WHERE function=$1 AND name=$2", {function, alias}) > 0;
  });
}

Result<bool> Registry::deleteFunction(const std::string& function) {
  return write<bool>(
      [&](SqlConnection& db) -> Result<bool> { return db.exec("DELETE FROM functions WHERE name=$1", {function}) > 0; });
}

// Environment variables and secrets are the same shape, in two tables (so a
// secret is never read back by the code that lists variables).
Result<void> Registry::upsertVar(const char* table, const std::string& function, const std::string& key,
                                 const std::string& value) {
  if (auto n = checkVarName(key); !n) return n.error();
  if (auto v = checkVarValue(value); !v) return v.error();
  return write<void>([&](SqlConnection& db) -> Result<void> {
    if (std::string_view(table) == "secrets") return upsertSecret(db, function, key, value);  // sealed
    db.exec(std::string("INSERT INTO ") + table +
                "(function, name, value) VALUES ($1, $2, $3) "
                "ON CONFLICT(function, name) DO UPDATE SET value=excluded.value",
            {function, key, value});
    return {};
  });
}

Result<bool> Registry::deleteVar(const char* table, const std::string& function, const std::string& key) {
  return write<bool>([&](SqlConnection& db) -> Result<bool> {
    return db.exec(std::string("DELETE FROM ") + table + " WHERE function=$1 AND name=$2", {function, key}) > 0;
  });
}

Result<void> Registry::setEnv(const std::string& function, const std::string& key, const std::string& value) {
  return upsertVar("env", function, key, value);
}
Result<bool> Registry::unsetEnv(const std::string& function, const std::string& key) {
  return deleteVar("env", function, key);
}
Result<void> Registry::setSecret(const std::string& function, const std::string& key, const std::string& value) {
  return upsertVar("secrets", function, key, value);
}
Result<bool> Registry::deleteSecret(const std::string& function, const std::string& key) {
  return deleteVar("secrets", function, key);
}

Result<void> Registry::setSettings(const std::string& function, const FunctionSettings& settings) {
  return write<void>([&](SqlConnection& db) -> Result<void> {
    if (db.exec("UPDATE functions SET settings=$1 WHERE name=$2", {settings.toJson(), function}) == 0)
      return Error{"no function named '" + function + "'"};
    return {};
  });
}

std::optional<FunctionInfo> Registry::functionIn(SqlConnection& db, const std::string& name) {
  auto f = db.query("SELECT created_at, settings FROM functions WHERE name=$1", {name});
  if (f.empty()) return std::nullopt;
  FunctionInfo info;
  info.name = name;
  info.createdAt = f[0].integer(0);
  if (auto st = FunctionSettings::fromJson(f[0].text(1))) info.settings = *st;
  for (const auto& v : db.query(
           "SELECT number, hash, size, created_at, created_by FROM versions WHERE function=$1 ORDER BY number", {name}))
    info.versions.push_back({v.integer(0), v.text(1), v.integer(2), v.integer(3), v.text(4)});
  for (const auto& a : db.query("SELECT name, version FROM aliases WHERE function=$1", {name}))
    info.aliases[a.text(0)] = a.integer(1);
  for (const auto& e : db.query("SELECT name, value FROM env WHERE function=$1", {name})) info.env[e.text(0)] = e.text(1);
  for (const auto& s : db.query("SELECT name FROM secrets WHERE function=$1 ORDER BY name", {name}))
    info.secretNames.push_back(s.text(0));
  return info;
}

Result<std::optional<FunctionInfo>> Registry::function(const std::string& name) {
  return withConnection<std::optional<FunctionInfo>>([&](SqlConnection& db) -> Result<std::optional<FunctionInfo>> {
    SqlTransaction tx(db, SqlConnection::Tx::Snapshot);
    auto f = functionIn(db, name);
    tx.commit();
    return f;
  });
}

Result<std::vector<FunctionInfo>> Registry::functions() {
  return withConnection<std::vector<FunctionInfo>>([&](SqlConnection& db) -> Result<std::vector<FunctionInfo>> {
    SqlTransaction tx(db, SqlConnection::Tx::Snapshot);
    std::vector<FunctionInfo> out;
    for (const auto& row : db.query("SELECT name FROM functions ORDER BY name"))
      if (auto f = functionIn(db, row.text(0))) out.push_back(std::move(*f));
    tx.commit();
    return out;
  });
}

void Registry::reload(SqlConnection& db) {
  auto c = std::make_shared<Catalog>();
  SqlTransaction tx(db, SqlConnection::Tx::Snapshot);
  c->generation = db.query("SELECT generation FROM registry_state WHERE id = 1").at(0).integer(0);
  // Every write bumps the generation: the same one is the same state (the
  // watcher hearing this node's own write, a resync with nothing new).
  if (auto current = catalog(); current && c->generation <= current->generation) {
    tx.commit();
    return;
  }
  for (const auto& f : db.query("SELECT name, settings FROM functions")) {
    auto& fn = c->functions[f.text(0)];
    fn.name = f.text(0);
    if (auto st = FunctionSettings::fromJson(f.text(1))) fn.settings = *st;
  }
  for (const auto& v : db.query("SELECT function, number, hash FROM versions"))
    c->functions[v.text(0)].versionHashes[v.integer(1)] = v.text(2);
  for (const auto& a : db.query("SELECT function, name, version FROM aliases"))
    c->functions[a.text(0)].aliases[a.text(1)] = a.integer(2);
  for (const auto& e : db.query("SELECT function, name, value FROM env")) {
    // A registry written before names were checked may hold one the guest
    // cannot take (non-UTF-8, '='): leave it out rather than fail every
    // request of the function. The API still lists it, so it can be deleted.
    const std::string &name = e.text(1), &value = e.text(2);
    if (!checkVarName(name) || !checkVarValue(value)) continue;
    c->functions[e.text(0)].env.emplace_back(name, value);
  }
  uint64_t unreadable = 0;
  loadSecrets(db, *c, unreadable);  // after the variables, opened (secrets_at_rest.cc)
  for (const auto& t : db.query("SELECT hash, id, name, role, functions, created_by, created_at FROM tokens"))
    c->tokens.emplace(t.text(0), tokenFromRow(t, 1));
  tx.commit();
  std::lock_guard lock(catalogMu_);
  watch_.reloads++;
  watch_.secretsUnreadable = unreadable;
  if (!catalog_ || c->generation >= catalog_->generation) catalog_ = std::move(c);
}

std::shared_ptr<const Catalog> Registry::catalog() const {
  std::lock_guard lock(catalogMu_);
  return catalog_;
}

Registry::WatchStats Registry::watchStats() const {
  std::lock_guard lock(catalogMu_);
  return watch_;
}

}  // namespace fn0::registry
