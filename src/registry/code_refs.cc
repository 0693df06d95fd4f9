// The garbage collector's statements (code_refs.h has the protocol). The
// lease, the marks and the batches use the database's clock, so nodes with
// skewed clocks agree on when a lease or a batch ends. None of them bumps
// the generation: they change nothing the catalog shows. Deleting versions
// does, through the registry's ordinary write.
#include "registry/code_refs.h"

#include "registry/sql.h"

namespace fn0::registry {

namespace {

// Milliseconds since 1970 on the database's clock.
const char* nowMs(SqlConnection& db) {
  return db.dialect() == SqlConnection::Dialect::Postgres
             ? "(extract(epoch from clock_timestamp()) * 1000)::bigint"
             : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}

std::string withNow(SqlConnection& db, std::string sql) {
  for (size_t at; (at = sql.find("{NOW}")) != std::string::npos;) sql.replace(at, 5, nowMs(db));
  return sql;
}

}  // namespace

Result<CodeRefs::State> CodeRefs::state(int64_t markMaxAgeMs) {
  State out;
  auto r = r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Snapshot);
    out.nowMs = db.query(withNow(db, "SELECT {NOW}")).at(0).integer(0);
    for (const auto& v : db.query("SELECT function, number, hash, size, created_at FROM versions"))
      out.versions.push_back({v.text(0), v.integer(1), v.text(2), v.integer(3), v.integer(4)});
    for (const auto& a : db.query("SELECT function, version FROM aliases")) out.aliased[a.text(0)].insert(a.integer(1));
    for (const auto& m : db.query("SELECT hash FROM code_uploads WHERE at_ms >= $1", {out.nowMs - markMaxAgeMs}))
      out.marked.insert(m.text(0));
    tx.commit();
    return {};
  });
  if (!r) return r.error();
  return out;
}

Result<bool> CodeRefs::markUpload(const std::string& hash) {
  bool marked = false;
  auto r = r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    // The row a batch announcement updates too: whichever comes second
    // waits for the first to commit, and then sees it.
    auto row = db.query(withNow(db, "UPDATE gc_state SET uploads = uploads + 1 WHERE id = 1 "
                                    "RETURNING deleting_until_ms, {NOW}"));
    if (row.at(0).integer(0) > row.at(0).integer(1)) return {};  // a batch is deleting: rolled back
    // Counted: two deploys of the same bytes at once each take one, and
    // addVersion gives one back (registry.cc).
    db.exec(withNow(db, "INSERT INTO code_uploads(hash, pending, at_ms) VALUES ($1, 1, {NOW}) "
                        "ON CONFLICT(hash) DO UPDATE SET pending = code_uploads.pending + 1, at_ms = excluded.at_ms"),
            {hash});
    tx.commit();
    marked = true;
    return {};
  });
  if (!r) return r.error();
  return marked;
}

Result<bool> CodeRefs::acquire(const std::string& holder, int64_t ttlMs, std::string* other) {
  bool got = false;
  auto r = r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    // A lease past its time is free: its holder died or hung.
    got = !db.query(withNow(db, "UPDATE gc_state SET holder = $1, lease_until_ms = {NOW} + $2 WHERE id = 1 AND "
                                "(holder = '' OR holder = $1 OR lease_until_ms < {NOW}) RETURNING holder"),
                    {holder, ttlMs})
               .empty();
    if (!got && other) *other = db.query("SELECT holder FROM gc_state WHERE id = 1").at(0).text(0);
    tx.commit();
    return {};
  });
  if (!r) return r.error();
  return got;
}

Result<void> CodeRefs::release(const std::string& holder) {
  return r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    db.exec("UPDATE gc_state SET holder = '', lease_until_ms = 0, deleting_until_ms = 0 WHERE id = 1 AND holder = $1",
            {holder});
    tx.commit();
    return {};
  });
}

Result<std::unordered_set<std::string>> CodeRefs::beginDeleting(const std::string& holder, int64_t ttlMs,
                                                                int64_t markMaxAgeMs) {
  std::unordered_set<std::string> referenced;
  auto r = r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    auto row = db.query(withNow(db, "UPDATE gc_state SET deleting_until_ms = {NOW} + $2, lease_until_ms = {NOW} + $2 "
                                    "WHERE id = 1 AND holder = $1 RETURNING {NOW}"),
                        {holder, ttlMs});
    if (row.empty()) return Error{"the garbage collector lost its lease (another node took it over)", kGcLeaseLost};
    const int64_t now = row[0].integer(0);
    db.exec("DELETE FROM code_uploads WHERE at_ms < $1", {now - markMaxAgeMs});
    // Separate statements after the update: on PostgreSQL (READ COMMITTED)
    // each sees every deploy that updated the row before this one did.
    for (const auto& v : db.query("SELECT DISTINCT hash FROM versions")) referenced.insert(v.text(0));
    for (const auto& m : db.query("SELECT hash FROM code_uploads")) referenced.insert(m.text(0));
    tx.commit();
    return {};
  });
  if (!r) return r.error();
  return referenced;
}

Result<void> CodeRefs::endDeleting(const std::string& holder) {
  return r_.onConnection([&](SqlConnection& db) -> Result<void> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    db.exec("UPDATE gc_state SET deleting_until_ms = 0 WHERE id = 1 AND holder = $1", {holder});
    tx.commit();
    return {};
  });
}

Result<std::vector<CodeRefs::Version>> CodeRefs::deleteVersions(const std::vector<Version>& versions) {
  std::vector<Version> deleted;
  if (versions.empty()) return deleted;
  auto r = r_.inWrite([&](SqlConnection& db) -> Result<void> {
    deleted.clear();  // a retried write starts over
    for (const auto& v : versions) {
      // An alias set since the plan was made keeps its version.
      if (db.exec("DELETE FROM versions WHERE function = $1 AND number = $2 AND NOT EXISTS "
                  "(SELECT 1 FROM aliases WHERE function = $1 AND version = $2)",
                  {v.function, v.number}) > 0)
        deleted.push_back(v);
    }
    return {};
  });
  if (!r) return r.error();
  return deleted;
}

}  // namespace fn0::registry
