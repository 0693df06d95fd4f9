#include "kv/kv_store.h"

#include <limits>

namespace fn0::kv {

using registry::SqlBlob;
using registry::SqlConnection;
using registry::SqlParams;

namespace {

// The bucket rows count what they hold; entries keep their first-write
// order in `id` (the guest's list-keys cursor) and sort by key in bytes
// (the admin's listing and export).
const char* const kSqliteSchema = R"sql(
  CREATE TABLE IF NOT EXISTS kv_buckets (
    bucket TEXT PRIMARY KEY,
    keys INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS kv_entries (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    UNIQUE (bucket, key)
  );
  CREATE INDEX IF NOT EXISTS kv_entries_by_id ON kv_entries(bucket, id);
)sql";

const char* const kPostgresSchema = R"sql(
  CREATE TABLE IF NOT EXISTS kv_buckets (
    bucket TEXT PRIMARY KEY,
    keys BIGINT NOT NULL,
    bytes BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS kv_entries (
    id BIGSERIAL PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value BYTEA NOT NULL,
    UNIQUE (bucket, key)
  );
  CREATE INDEX IF NOT EXISTS kv_entries_by_id ON kv_entries(bucket, id);
)sql";

int64_t i64(uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max())); }

}  // namespace

std::optional<uint64_t> parseCounter(const std::string& value) {
  if (value.empty() || value.size() > 20) return std::nullopt;
  uint64_t n = 0;
  for (char ch : value) {
    if (ch < '0' || ch > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(ch - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

std::optional<int64_t> parseSignedCounter(const std::string& value) {
  const bool negative = !value.empty() && value[0] == '-';
  auto magnitude = parseCounter(negative ? value.substr(1) : value);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) return *magnitude <= kMaxPositive ? std::optional<int64_t>(static_cast<int64_t>(*magnitude)) : std::nullopt;
  if (*magnitude > kMaxPositive + 1) return std::nullopt;
  return *magnitude == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(*magnitude);
}

KvStore::KvStore(std::unique_ptr<SqlConnection> connection) : c_(std::move(connection)) {
  registry::SqlTransaction tx(*c_, SqlConnection::Tx::Write);
  c_->lockForMigration();
  c_->script(c_->dialect() == SqlConnection::Dialect::Postgres ? kPostgresSchema : kSqliteSchema);
  tx.commit();
}

std::optional<std::string> KvStore::get(const std::string& bucket, const std::string& key) {
  auto rows = c_->query("SELECT value FROM kv_entries WHERE bucket = $1 AND key = $2", {bucket, key});
  if (rows.empty()) return std::nullopt;
  return rows[0].text(0);
}

bool KvStore::exists(const std::string& bucket, const std::string& key) {
  return !c_->query("SELECT 1 FROM kv_entries WHERE bucket = $1 AND key = $2", {bucket, key}).empty();
}

std::vector<std::optional<std::string>> KvStore::getMany(const std::string& bucket,
                                                         const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(get(bucket, k));
  return out;
}

KvStore::KeyPage KvStore::listKeys(const std::string& bucket, std::optional<uint64_t> cursor, size_t limit) {
  auto rows = c_->query("SELECT id, key FROM kv_entries WHERE bucket = $1 AND id > $2 ORDER BY id LIMIT $3",
                        {bucket, i64(cursor.value_or(0)), static_cast<int64_t>(limit + 1)});
  KeyPage page;
  for (size_t i = 0; i < rows.size() && i < limit; i++) page.keys.push_back(rows[i].text(1));
  if (rows.size() > limit) page.next = static_cast<uint64_t>(rows[limit - 1].integer(0));
  return page;
}

KvUsage KvStore::lockBucket(const std::string& bucket) {
  // ON CONFLICT DO UPDATE takes the row lock on PostgreSQL; SQLite's write
  // transaction already excludes every other writer.
  auto rows = c_->query(
      "INSERT INTO kv_buckets (bucket, keys, bytes) VALUES ($1, 0, 0) "
      "ON CONFLICT (bucket) DO UPDATE SET keys = kv_buckets.keys RETURNING keys, bytes",
      {bucket});
  return KvUsage{static_cast<uint64_t>(rows.at(0).integer(0)), static_cast<uint64_t>(rows.at(0).integer(1))};
}

void KvStore::saveUsage(const std::string& bucket, const KvUsage& u) {
  c_->exec("UPDATE kv_buckets SET keys = $2, bytes = $3 WHERE bucket = $1", {bucket, i64(u.keys), i64(u.bytes)});
}

void KvStore::put(const std::string& bucket, const std::string& key, const std::string& value, KvUsage& u,
                  uint64_t maxBytes) {
  auto old = c_->query("SELECT length(value) FROM kv_entries WHERE bucket = $1 AND key = $2", {bucket, key});
  const uint64_t before = old.empty() ? 0 : key.size() + static_cast<uint64_t>(old[0].integer(0));
  const uint64_t after = key.size() + value.size();
  const uint64_t total = u.bytes - std::min(u.bytes, before) + after;
  if (after > before && total > maxBytes)
    throw KvRejected("kv-bucket-full", "the bucket would hold " + std::to_string(total) +
                                           " bytes of keys and values, more than its limit of " +
                                           std::to_string(maxBytes));
  c_->exec(
      "INSERT INTO kv_entries (bucket, key, value) VALUES ($1, $2, $3) "
      "ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
      {bucket, key, SqlBlob{value}});
  u.bytes = total;
  if (old.empty()) u.keys++;
}

bool KvStore::erase(const std::string& bucket, const std::string& key, KvUsage& u) {
  auto old = c_->query("DELETE FROM kv_entries WHERE bucket = $1 AND key = $2 RETURNING length(value)", {bucket, key});
  if (old.empty()) return false;
  const uint64_t size = key.size() + static_cast<uint64_t>(old[0].integer(0));
  u.bytes -= std::min(u.bytes, size);
  u.keys -= std::min<uint64_t>(u.keys, 1);
  return true;
}

void KvStore::set(const std::string& bucket, const std::string& key, const std::string& value, uint64_t maxBytes) {
  auto u = lockBucket(bucket);
  put(bucket, key, value, u, maxBytes);
  saveUsage(bucket, u);
}

void KvStore::setMany(const std::string& bucket, const std::vector<KvEntry>& entries, uint64_t maxBytes) {
  auto u = lockBucket(bucket);
  for (const auto& e : entries) put(bucket, e.key, e.value, u, maxBytes);
  saveUsage(bucket, u);
}

void KvStore::remove(const std::string& bucket, const std::string& key) {
  auto u = lockBucket(bucket);
  if (erase(bucket, key, u)) saveUsage(bucket, u);
}

void KvStore::removeMany(const std::string& bucket, const std::vector<std::string>& keys) {
  auto u = lockBucket(bucket);
  bool changed = false;
  for (const auto& k : keys) changed |= erase(bucket, k, u);
  if (changed) saveUsage(bucket, u);
}

uint64_t KvStore::increment(const std::string& bucket, const std::string& key, uint64_t delta, uint64_t maxBytes) {
  auto u = lockBucket(bucket);
  uint64_t current = 0;
  if (auto old = get(bucket, key)) {
    auto n = parseCounter(*old);
    if (!n)
      throw KvRejected("kv-not-a-number", "the value of '" + key.substr(0, 64) +
                                              "' is not a decimal number, so it cannot be incremented");
    current = *n;
  }
  if (delta > std::numeric_limits<uint64_t>::max() - current)
    throw KvRejected("kv-not-a-number", "incrementing '" + key.substr(0, 64) + "' by " + std::to_string(delta) +
                                            " would pass 2^64 - 1");
  const uint64_t next = current + delta;
  put(bucket, key, std::to_string(next), u, maxBytes);
  saveUsage(bucket, u);
  return next;
}

int64_t KvStore::incrementSigned(const std::string& bucket, const std::string& key, int64_t delta,
                                 uint64_t maxBytes) {
  auto u = lockBucket(bucket);
  int64_t current = 0;
  if (auto old = get(bucket, key)) {
    auto n = parseSignedCounter(*old);
    if (!n)
      throw KvRejected("kv-not-a-number", "the value of '" + key.substr(0, 64) +
                                              "' is not a decimal number, so it cannot be incremented");
    current = *n;
  }
  int64_t next = 0;
  if (__builtin_add_overflow(current, delta, &next))
    throw KvRejected("kv-not-a-number", "incrementing '" + key.substr(0, 64) + "' by " + std::to_string(delta) +
                                            " would leave the signed 64-bit range");
  put(bucket, key, std::to_string(next), u, maxBytes);
  saveUsage(bucket, u);
  return next;
}

KvStore::SwapResult KvStore::swap(const std::string& bucket, const std::string& key,
                                  const std::optional<std::string>& expected, const std::string& value,
                                  uint64_t maxBytes) {
  auto u = lockBucket(bucket);  // no other write to the bucket until the transaction ends
  auto now = get(bucket, key);
  if (now != expected) return SwapResult{false, std::move(now)};
  put(bucket, key, value, u, maxBytes);
  saveUsage(bucket, u);
  return SwapResult{true, std::nullopt};
}

std::vector<KvEntry> KvStore::scan(const std::string& bucket, const std::string& prefix, const std::string& after,
                                   size_t limit) {
  const std::string& from = after > prefix ? after : prefix;
  const char* op = after > prefix ? ">" : ">=";
  auto rows = c_->query(std::string("SELECT key, value FROM kv_entries WHERE bucket = $1 AND key ") + op +
                            " $2 ORDER BY key LIMIT $3",
                        {bucket, from, static_cast<int64_t>(limit)});
  std::vector<KvEntry> out;
  for (auto& r : rows) {
    const auto& key = r.text(0);
    if (key.compare(0, prefix.size(), prefix) != 0) break;  // past the prefix's range
    out.push_back(KvEntry{key, r.text(1)});
  }
  return out;
}

KvUsage KvStore::usage(const std::string& bucket) {
  auto rows = c_->query("SELECT keys, bytes FROM kv_buckets WHERE bucket = $1", {bucket});
  if (rows.empty()) return {};
  return KvUsage{static_cast<uint64_t>(rows[0].integer(0)), static_cast<uint64_t>(rows[0].integer(1))};
}

uint64_t KvStore::dropBucket(const std::string& bucket) {
  auto u = lockBucket(bucket);
  c_->exec("DELETE FROM kv_entries WHERE bucket = $1", {bucket});
  c_->exec("DELETE FROM kv_buckets WHERE bucket = $1", {bucket});
  return u.keys;
}

}  // namespace fn0::kv
