// Inside the registry (not for other folders): how its files run
// statements. withConnection() takes the connection, reopening it once when
// the server went away; write() wraps a change in one transaction that bumps
// the generation, notifies the other nodes and republishes the catalog.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "registry/registry.h"
#include "registry/sql.h"

namespace fn0::registry {

inline int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline Error errorOf(const SqlError& e) {
  return Error{std::string("registry: ") + e.what(), e.unavailable() ? kRegistryUnavailable : ""};
}

// A token from a row whose columns, from `first`, are id, name, role,
// functions (comma-separated), created_by, created_at (tokens.cc).
TokenInfo tokenFromRow(const SqlRow& row, size_t first);

template <typename T, typename F>
Result<T> Registry::withConnection(F&& f) {
  std::lock_guard lock(mu_);
  for (int attempt = 0;; attempt++) {
    try {
      db_->ensureConnected();
      return f(*db_);
    } catch (const SqlError& e) {
      // A connection that died since the last use (a restarted server) is
      // reopened once. Every write here is idempotent, so repeating one
      // whose COMMIT was lost in flight does no harm.
      if (e.unavailable() && attempt == 0) continue;
      return errorOf(e);
    }
  }
}

template <typename T, typename F>
Result<T> Registry::write(F&& f) {
  return withConnection<T>([&](SqlConnection& db) -> Result<T> {
    SqlTransaction tx(db, SqlConnection::Tx::Write);
    db.exec("UPDATE registry_state SET generation = generation + 1 WHERE id = 1");
    Result<T> r = f(db);
    if (!r) return r;  // rolled back
    db.notifyChanged();
    tx.commit();
    try {
      reload(db);
    } catch (const SqlError&) {
      // Committed; the catalog catches up on the next reload.
    }
    return r;
  });
}

}  // namespace fn0::registry
