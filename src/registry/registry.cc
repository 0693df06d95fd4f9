#include "registry/registry.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/failpoint.h"

namespace fn0::registry {

namespace {

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Schema migrations, applied in order; PRAGMA user_version records how many ran.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE functions (
      name TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL,
      next_version INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE versions (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      number INTEGER NOT NULL,
      hash TEXT NOT NULL,
      size INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (function, number)
    );
    CREATE INDEX versions_by_hash ON versions(function, hash);
    CREATE TABLE aliases (
      function TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
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
      created_at INTEGER NOT NULL
    );
    )sql",
    // 2: per-function settings (limits, allowed destinations) as JSON.
    R"sql(
    ALTER TABLE functions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    )sql",
};

template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error{std::string("registry: ") + e.what()};
  }
}

}  // namespace

namespace {

struct NumberField {
  SettingRange range;
  std::optional<uint64_t> FunctionSettings::*field;
};

// Ranges: generous for any real function, small enough that milliseconds
// fit nanoseconds and megabytes fit bytes many times over.
const std::vector<NumberField>& numberFields() {
  static const std::vector<NumberField> fields = {
      {{"cpu_ms", 1, 600'000}, &FunctionSettings::cpuMs},                // 10 min
      {{"duration_ms", 1, 3'600'000}, &FunctionSettings::durationMs},    // 1 h
      {{"memory_mb", 1, 65'536}, &FunctionSettings::memoryMb},           // 64 GiB
      {{"max_subrequests", 0, 100'000}, &FunctionSettings::maxSubrequests},
      {{"reuse_instance_requests", 0, 1'000'000}, &FunctionSettings::reuseInstanceRequests},
      {{"max_concurrency", 1, 1'000'000}, &FunctionSettings::maxConcurrency},
  };
  return fields;
}

std::string rangeError(const SettingRange& r) {
  return std::string(r.name) + " must be an integer between " + std::to_string(r.min) + " and " +
         std::to_string(r.max) + " (or null for the node's value)";
}

}  // namespace

const std::vector<SettingRange>& settingRanges() {
  static const std::vector<SettingRange> ranges = [] {
    std::vector<SettingRange> v;
    for (const auto& f : numberFields()) v.push_back(f.range);
    return v;
  }();
  return ranges;
}

Result<FunctionSettings> FunctionSettings::fromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Error{"settings must be a JSON object"};
  FunctionSettings s;
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const auto& [range, field] : numberFields()) {
      if (key != range.name) continue;
      known = true;
      if (value.is_null()) continue;
      // Negative numbers are signed integers, floats (also 2^64 and above)
      // are not integers: both fail here, with the range in the message.
      if (!value.is_number_unsigned()) return Error{rangeError(range)};
      const uint64_t n = value.get<uint64_t>();
      if (n < range.min || n > range.max) return Error{rangeError(range)};
      s.*field = n;
    }
    if (key == "allow") {
      known = true;
      if (!value.is_array()) return Error{"allow must be a list of CIDRs, e.g. [\"10.0.0.0/8\"]"};
      if (value.size() > kMaxAllowEntries)
        return Error{"allow takes at most " + std::to_string(kMaxAllowEntries) + " entries"};
      for (const auto& a : value) {
        if (!a.is_string()) return Error{"allow entries must be strings"};
        if (a.get_ref<const std::string&>().size() > kMaxAllowEntryBytes)
          return Error{"allow entries are at most " + std::to_string(kMaxAllowEntryBytes) + " bytes"};
        s.allow.push_back(a.get<std::string>());
      }
    }
    if (!known) return Error{"unknown setting '" + key.substr(0, 64) + "'"};
  }
  return s;
}

std::string FunctionSettings::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [range, field] : numberFields())
    if (const auto& v = this->*field) j[range.name] = *v;
  if (!allow.empty()) j["allow"] = allow;
  return j.dump();
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; k++) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and beyond U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n + 1;
  }
  return true;
}

Result<void> checkVarName(const std::string& name) {
  static const std::string kRule = "names are letters, digits and '_', not starting with a digit, at most " +
                                   std::to_string(kMaxVarNameBytes) + " bytes";
  if (name.empty() || name.size() > kMaxVarNameBytes) return Error{"invalid variable name: " + kRule};
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return Error{"invalid variable name: " + kRule};
  }
  return {};
}

Result<void> checkVarValue(const std::string& value) {
  if (value.size() > kMaxVarValueBytes)
    return Error{"values are at most " + std::to_string(kMaxVarValueBytes) + " bytes"};
  if (value.find('\0') != std::string::npos) return Error{"values must not contain NUL"};
  if (!isValidUtf8(value)) return Error{"values must be UTF-8"};
  return {};
}

bool isDnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool isValidAliasName(const std::string& s) {
  if (!isDnsLabel(s)) return false;
  if (s.size() > 1 && s[0] == 'v' && s.find_first_not_of("0123456789", 1) == std::string::npos) return false;
  return true;
}

Registry::Registry(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
Registry::~Registry() = default;

Result<std::unique_ptr<Registry>> Registry::open(const std::filesystem::path& file) {
  return guarded([&]() -> Result<std::unique_ptr<Registry>> {
    auto db = std::make_unique<SQLite::Database>(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db->exec("PRAGMA journal_mode=WAL");
    db->exec("PRAGMA synchronous=FULL");
    db->exec("PRAGMA foreign_keys=ON");
    db->exec("PRAGMA busy_timeout=5000");
    std::unique_ptr<Registry> r(new Registry(std::move(db)));
    std::lock_guard lock(r->mu_);
    if (auto m = r->migrate(); !m) return m.error();
    r->publish();
    return r;
  });
}

Result<void> Registry::migrate() {
  int current = db_->execAndGet("PRAGMA user_version").getInt();
  const int target = static_cast<int>(std::size(kMigrations));
  if (current > target)
    return Error{"registry schema version " + std::to_string(current) + " is newer than this fn0 (" +
                 std::to_string(target) + ")"};
  for (int i = current; i < target; i++) {
    SQLite::Transaction tx(*db_);
    db_->exec(kMigrations[i]);
    db_->exec("PRAGMA user_version=" + std::to_string(i + 1));
    tx.commit();
  }
  return {};
}

Result<Registry::Added> Registry::addVersion(const std::string& function, const std::string& hash, int64_t size,
                                             bool makeLive) {
  if (!isDnsLabel(function)) return Error{"invalid function name: " + function};
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<Added> {
    SQLite::Transaction tx(*db_);
    SQLite::Statement ins(*db_, "INSERT OR IGNORE INTO functions(name, created_at) VALUES (?, ?)");
    ins.bind(1, function);
    ins.bind(2, now());
    ins.exec();
    Added out{};
    SQLite::Statement find(*db_, "SELECT number, size, created_at FROM versions WHERE function=? AND hash=?");
    find.bind(1, function);
    find.bind(2, hash);
    if (find.executeStep()) {
      out.version = {find.getColumn(0).getInt64(), hash, find.getColumn(1).getInt64(), find.getColumn(2).getInt64()};
      out.created = false;
    } else {
      SQLite::Statement next(*db_, "SELECT next_version FROM functions WHERE name=?");
      next.bind(1, function);
      next.executeStep();
      int64_t number = next.getColumn(0).getInt64();
      SQLite::Statement add(*db_,
                            "INSERT INTO versions(function, number, hash, size, created_at) VALUES (?, ?, ?, ?, ?)");
      add.bind(1, function);
      add.bind(2, number);
      add.bind(3, hash);
      add.bind(4, size);
      add.bind(5, now());
      add.exec();
      SQLite::Statement bump(*db_, "UPDATE functions SET next_version=? WHERE name=?");
      bump.bind(1, number + 1);
      bump.bind(2, function);
      bump.exec();
      out.version = {number, hash, size, now()};
      out.created = true;
    }
    failpoint("registry:in-transaction");
    if (makeLive) {
      SQLite::Statement live(*db_,
                             "INSERT INTO aliases(function, name, version, updated_at) VALUES (?, 'live', ?, ?) "
                             "ON CONFLICT(function, name) DO UPDATE SET version=excluded.version, "
                             "updated_at=excluded.updated_at");
      live.bind(1, function);
      live.bind(2, out.version.number);
      live.bind(3, now());
      live.exec();
    }
    tx.commit();
    publish();
    return out;
  });
}

Result<void> Registry::setAlias(const std::string& function, const std::string& alias, int64_t version) {
  if (!isValidAliasName(alias)) return Error{"invalid alias name: " + alias};
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<void> {
    SQLite::Statement check(*db_, "SELECT 1 FROM versions WHERE function=? AND number=?");
    check.bind(1, function);
    check.bind(2, version);
    if (!check.executeStep()) return Error{"no version v" + std::to_string(version) + " of " + function};
    SQLite::Statement st(*db_,
                         "INSERT INTO aliases(function, name, version, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(function, name) DO UPDATE SET version=excluded.version, "
                         "updated_at=excluded.updated_at");
    st.bind(1, function);
    st.bind(2, alias);
    st.bind(3, version);
    st.bind(4, now());
    st.exec();
    publish();
    return {};
  });
}

namespace {
Result<bool> deleteWhere(SQLite::Database& db, const char* sql, const std::string& a, const std::string* b) {
  SQLite::Statement st(db, sql);
  st.bind(1, a);
  if (b) st.bind(2, *b);
  return st.exec() > 0;
}
}  // namespace

Result<bool> Registry::deleteAlias(const std::string& function, const std::string& alias) {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<bool> {
    auto r = deleteWhere(*db_, "DELETE FROM aliases WHERE function=? AND name=?", function, &alias);
    publish();
    return r;
  });
}

Result<bool> Registry::deleteFunction(const std::string& function) {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<bool> {
    auto r = deleteWhere(*db_, "DELETE FROM functions WHERE name=?", function, nullptr);
    publish();
    return r;
  });
}

// Environment variables and secrets are the same shape, in two tables (so a
// secret is never read back by the code that lists variables).
Result<void> Registry::upsertVar(const char* table, const std::string& function, const std::string& key,
                                 const std::string& value) {
  if (auto n = checkVarName(key); !n) return n.error();
  if (auto v = checkVarValue(value); !v) return v.error();
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<void> {
    SQLite::Statement st(*db_, std::string("INSERT INTO ") + table +
                                   "(function, name, value) VALUES (?, ?, ?) "
                                   "ON CONFLICT(function, name) DO UPDATE SET value=excluded.value");
    st.bind(1, function);
    st.bind(2, key);
    st.bind(3, value);
    st.exec();
    publish();
    return {};
  });
}

Result<bool> Registry::deleteVar(const char* table, const std::string& function, const std::string& key) {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<bool> {
    const std::string sql = std::string("DELETE FROM ") + table + " WHERE function=? AND name=?";
    auto r = deleteWhere(*db_, sql.c_str(), function, &key);
    publish();
    return r;
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
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<void> {
    SQLite::Statement st(*db_, "UPDATE functions SET settings=? WHERE name=?");
    st.bind(1, settings.toJson());
    st.bind(2, function);
    if (st.exec() == 0) return Error{"no function named '" + function + "'"};
    publish();
    return {};
  });
}

Result<std::optional<FunctionInfo>> Registry::functionLocked(const std::string& name) {
  SQLite::Statement f(*db_, "SELECT created_at, settings FROM functions WHERE name=?");
  f.bind(1, name);
  if (!f.executeStep()) return std::optional<FunctionInfo>{};
  FunctionInfo info;
  info.name = name;
  info.createdAt = f.getColumn(0).getInt64();
  if (auto st = FunctionSettings::fromJson(f.getColumn(1).getString())) info.settings = *st;
  SQLite::Statement v(*db_, "SELECT number, hash, size, created_at FROM versions WHERE function=? ORDER BY number");
  v.bind(1, name);
  while (v.executeStep())
    info.versions.push_back({v.getColumn(0).getInt64(), v.getColumn(1).getString(), v.getColumn(2).getInt64(),
                             v.getColumn(3).getInt64()});
  SQLite::Statement a(*db_, "SELECT name, version FROM aliases WHERE function=?");
  a.bind(1, name);
  while (a.executeStep()) info.aliases[a.getColumn(0).getString()] = a.getColumn(1).getInt64();
  SQLite::Statement e(*db_, "SELECT name, value FROM env WHERE function=?");
  e.bind(1, name);
  while (e.executeStep()) info.env[e.getColumn(0).getString()] = e.getColumn(1).getString();
  SQLite::Statement s(*db_, "SELECT name FROM secrets WHERE function=? ORDER BY name");
  s.bind(1, name);
  while (s.executeStep()) info.secretNames.push_back(s.getColumn(0).getString());
  return std::optional<FunctionInfo>(std::move(info));
}

Result<std::optional<FunctionInfo>> Registry::function(const std::string& name) {
  std::lock_guard lock(mu_);
  return guarded([&] { return functionLocked(name); });
}

Result<std::vector<FunctionInfo>> Registry::functions() {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<std::vector<FunctionInfo>> {
    std::vector<std::string> names;
    SQLite::Statement q(*db_, "SELECT name FROM functions ORDER BY name");
    while (q.executeStep()) names.push_back(q.getColumn(0).getString());
    std::vector<FunctionInfo> out;
    for (const auto& n : names) {
      auto f = functionLocked(n);
      if (!f) return f.error();
      if (*f) out.push_back(std::move(**f));
    }
    return out;
  });
}

Result<void> Registry::addTokenHash(const std::string& sha256, const std::string& note) {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<void> {
    SQLite::Statement st(*db_, "INSERT OR IGNORE INTO tokens(hash, note, created_at) VALUES (?, ?, ?)");
    st.bind(1, sha256);
    st.bind(2, note);
    st.bind(3, now());
    st.exec();
    return {};
  });
}

Result<bool> Registry::hasTokenHash(const std::string& sha256) {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<bool> {
    SQLite::Statement st(*db_, "SELECT 1 FROM tokens WHERE hash=?");
    st.bind(1, sha256);
    return st.executeStep();
  });
}

Result<int64_t> Registry::tokenCount() {
  std::lock_guard lock(mu_);
  return guarded([&]() -> Result<int64_t> { return db_->execAndGet("SELECT count(*) FROM tokens").getInt64(); });
}

void Registry::publish() {
  auto c = std::make_shared<Catalog>();
  SQLite::Statement f(*db_, "SELECT name, settings FROM functions");
  while (f.executeStep()) {
    std::string n = f.getColumn(0).getString();
    c->functions[n].name = n;
    if (auto st = FunctionSettings::fromJson(f.getColumn(1).getString())) c->functions[n].settings = *st;
  }
  SQLite::Statement v(*db_, "SELECT function, number, hash FROM versions");
  while (v.executeStep())
    c->functions[v.getColumn(0).getString()].versionHashes[v.getColumn(1).getInt64()] = v.getColumn(2).getString();
  SQLite::Statement a(*db_, "SELECT function, name, version FROM aliases");
  while (a.executeStep())
    c->functions[a.getColumn(0).getString()].aliases[a.getColumn(1).getString()] = a.getColumn(2).getInt64();
  SQLite::Statement e(*db_, "SELECT function, name, value FROM env UNION ALL SELECT function, name, value FROM secrets");
  while (e.executeStep()) {
    // A registry written before names were checked may hold one the guest
    // cannot take (non-UTF-8, '='): leave it out rather than fail every
    // request of the function. The API still lists it, so it can be deleted.
    std::string name = e.getColumn(1).getString(), value = e.getColumn(2).getString();
    if (!checkVarName(name) || !checkVarValue(value)) continue;
    c->functions[e.getColumn(0).getString()].env.emplace_back(std::move(name), std::move(value));
  }
  std::lock_guard lock(catalogMu_);
  catalog_ = std::move(c);
}

std::shared_ptr<const Catalog> Registry::catalog() const {
  std::lock_guard lock(catalogMu_);
  return catalog_;
}

}  // namespace fn0::registry
