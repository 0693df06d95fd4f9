// The audit log: one row per admin action, appended once the action is done
// and before its answer leaves (admin/held_answer.h), outside the catalog:
// no reload, no notification.
#include "registry/registry.h"
#include "registry/transactions.h"

namespace fn0::registry {

Result<void> Registry::addAudit(const AuditEntry& e) {
  return withConnection<void>([&](SqlConnection& db) -> Result<void> {
    db.exec("INSERT INTO audit(at_ms, actor, via, role, action, function, detail, client, request_id, status) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            {e.atMs, e.actor, e.via, e.role, e.action, e.function, e.detail, e.client, e.requestId, e.status});
    return {};
  });
}

Result<std::vector<AuditEntry>> Registry::audit(const AuditQuery& q) {
  return withConnection<std::vector<AuditEntry>>([&](SqlConnection& db) -> Result<std::vector<AuditEntry>> {
    // Every filter is a parameter; an empty one matches anything.
    auto rows = db.query(
        "SELECT id, at_ms, actor, via, role, action, function, detail, client, request_id, status FROM audit "
        "WHERE ($1 = '' OR function = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3) "
        "AND ($4 = 0 OR id < $4) AND at_ms >= $5 ORDER BY id DESC LIMIT $6",
        {q.function, q.actor, q.action, q.beforeId, q.sinceMs, static_cast<int64_t>(q.limit)});
    std::vector<AuditEntry> out;
    for (const auto& r : rows)
      out.push_back({r.integer(0), r.integer(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.text(7),
                     r.text(8), r.text(9), r.integer(10)});
    return out;
  });
}

Result<int64_t> Registry::purgeAudit(int64_t keepDays) {
  const int64_t cutoff = (now() - keepDays * 86400) * 1000;
  return withConnection<int64_t>(
      [&](SqlConnection& db) -> Result<int64_t> { return db.exec("DELETE FROM audit WHERE at_ms < $1", {cutoff}); });
}

}  // namespace fn0::registry
