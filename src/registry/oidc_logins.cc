// OIDC logins in progress: rows of the registry's `oidc_logins` table
// (migration 11), outside the catalog like sessions: a login does not make
// every node reload.
#include "registry/registry.h"
#include "registry/transactions.h"

namespace fn0::registry {

namespace {

constexpr const char* kColumns =
    "kind, nonce, verifier, binding_hash, device_code, poll_interval, created_at, expires_at";

Registry::OidcLogin loginFromRow(const std::string& idHash, const SqlRow& r) {
  Registry::OidcLogin l;
  l.idHash = idHash;
  l.kind = r.text(0);
  l.nonce = r.text(1);
  l.verifier = r.text(2);
  l.bindingHash = r.text(3);
  l.deviceCode = r.text(4);
  l.pollInterval = r.integer(5);
  l.createdAt = r.integer(6);
  l.expiresAt = r.integer(7);
  return l;
}

}  // namespace

Result<void> Registry::addOidcLogin(const OidcLogin& l) {
  return withConnection<void>([&](SqlConnection& db) -> Result<void> {
    // Unfinished logins go once expired: the table stays small.
    db.exec("DELETE FROM oidc_logins WHERE expires_at<=$1", {now()});
    db.exec(std::string("INSERT INTO oidc_logins(id_hash, ") + kColumns +
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            {l.idHash, l.kind, l.nonce, l.verifier, l.bindingHash, l.deviceCode, l.pollInterval, l.createdAt,
             l.expiresAt});
    return {};
  });
}

Result<std::optional<Registry::OidcLogin>> Registry::oidcLogin(const std::string& idHash) {
  return withConnection<std::optional<OidcLogin>>([&](SqlConnection& db) -> Result<std::optional<OidcLogin>> {
    auto rows = db.query(std::string("SELECT ") + kColumns + " FROM oidc_logins WHERE id_hash=$1 AND expires_at>$2",
                         {idHash, now()});
    if (rows.empty()) return std::optional<OidcLogin>();
    return std::optional<OidcLogin>(loginFromRow(idHash, rows[0]));
  });
}

Result<std::optional<Registry::OidcLogin>> Registry::takeOidcLogin(const std::string& idHash) {
  return withConnection<std::optional<OidcLogin>>([&](SqlConnection& db) -> Result<std::optional<OidcLogin>> {
    auto rows = db.query(std::string("SELECT ") + kColumns + " FROM oidc_logins WHERE id_hash=$1 AND expires_at>$2",
                         {idHash, now()});
    if (rows.empty()) return std::optional<OidcLogin>();
    // Whoever deletes the row owns the login; a second caller deletes
    // nothing and gets none.
    if (db.exec("DELETE FROM oidc_logins WHERE id_hash=$1", {idHash}) != 1) return std::optional<OidcLogin>();
    return std::optional<OidcLogin>(loginFromRow(idHash, rows[0]));
  });
}

Result<void> Registry::setOidcPollInterval(const std::string& idHash, int64_t seconds) {
  return withConnection<void>([&](SqlConnection& db) -> Result<void> {
    db.exec("UPDATE oidc_logins SET poll_interval=$1 WHERE id_hash=$2", {seconds, idHash});
    return {};
  });
}

}  // namespace fn0::registry
