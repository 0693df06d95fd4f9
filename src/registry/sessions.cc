// Dashboard sessions: rows in the registry's `sessions` table (migration 5),
// read and written outside the catalog.
#include "registry/registry.h"
#include "registry/transactions.h"

namespace fn0::registry {

Result<void> Registry::createSession(const Session& s) {
  return withConnection<void>([&](SqlConnection& db) -> Result<void> {
    db.exec("INSERT INTO sessions(id_hash, csrf, role, subject, token_hash, created_at, expires_at, person) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            {s.idHash, s.csrf, s.role, s.subject, s.tokenHash, s.createdAt, s.expiresAt, s.person});
    return {};
  });
}

Result<std::optional<Registry::Session>> Registry::session(const std::string& idHash) {
  return withConnection<std::optional<Session>>([&](SqlConnection& db) -> Result<std::optional<Session>> {
    auto rows = db.query(
        "SELECT csrf, role, subject, token_hash, created_at, expires_at, person FROM sessions "
        "WHERE id_hash=$1 AND expires_at>$2",
        {idHash, now()});
    if (rows.empty()) return std::optional<Session>();
    const auto& r = rows[0];
    return std::optional<Session>(
        Session{idHash, r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4), r.integer(5), r.text(6)});
  });
}

Result<bool> Registry::deleteSession(const std::string& idHash) {
  return withConnection<bool>([&](SqlConnection& db) -> Result<bool> {
    return db.exec("DELETE FROM sessions WHERE id_hash=$1", {idHash}) > 0;
  });
}

Result<int64_t> Registry::purgeSessions() {
  return withConnection<int64_t>(
      [&](SqlConnection& db) -> Result<int64_t> { return db.exec("DELETE FROM sessions WHERE expires_at<=$1", {now()}); });
}

}  // namespace fn0::registry
