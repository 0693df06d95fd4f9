// API tokens: named, with a role and (for deployers) the functions they
// may deploy. Stored by hash; the catalog holds them so that a request is
// authenticated without a database round trip, and a revocation reaches
// every node with the catalog.
#include <algorithm>

#include "registry/registry.h"
#include "registry/transactions.h"

namespace fn0::registry {

namespace {

std::string joinFunctions(const std::vector<std::string>& fs) {
  std::string out;
  for (const auto& f : fs) out += (out.empty() ? "" : ",") + f;
  return out;
}

std::vector<std::string> splitFunctions(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t comma = s.find(',', pos);
    std::string part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) out.push_back(std::move(part));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

bool isRole(const std::string& r) { return std::find(std::begin(kRoles), std::end(kRoles), r) != std::end(kRoles); }

bool TokenInfo::covers(const std::string& function) const {
  if (functions.empty()) return true;
  for (const auto& f : functions) {
    if (f == function) return true;
    if (!f.empty() && f.back() == '*' && function.compare(0, f.size() - 1, f, 0, f.size() - 1) == 0) return true;
  }
  return false;
}

TokenInfo tokenFromRow(const SqlRow& r, size_t i) {
  TokenInfo t;
  t.id = r.text(i);
  t.name = r.text(i + 1);
  t.role = r.text(i + 2);
  t.functions = splitFunctions(r.text(i + 3));
  t.createdBy = r.text(i + 4);
  t.createdAt = r.integer(i + 5);
  return t;
}

Result<void> Registry::addTokenHash(const std::string& sha256, const std::string& note) {
  if (catalog()->tokens.count(sha256)) return {};
  TokenInfo t;
  t.name = note;
  t.role = "admin";
  t.createdBy = "fn0 serve";
  auto r = addToken(sha256, t);
  if (!r) return r.error();
  return {};
}

Result<TokenInfo> Registry::addToken(const std::string& sha256, TokenInfo t) {
  if (!isRole(t.role)) return Error{"a role is admin, deployer or viewer, not '" + t.role + "'"};
  for (const auto& f : t.functions) {
    const std::string name = !f.empty() && f.back() == '*' ? f.substr(0, f.size() - 1) : f;
    // "api-*" is a prefix: its name part may end with a hyphen, and "*" alone is every function.
    if (!name.empty() && !isDnsLabel(name) && !(f.back() == '*' && isDnsLabel(name + "a")))
      return Error{"'" + f + "' is neither a function name nor a prefix ending in '*'"};
  }
  t.id = sha256.substr(0, 12);
  t.createdAt = now();
  return write<TokenInfo>([&](SqlConnection& db) -> Result<TokenInfo> {
    db.exec("INSERT INTO tokens(hash, note, created_at, id, name, role, functions, created_by) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            {sha256, t.name, t.createdAt, t.id, t.name, t.role, joinFunctions(t.functions), t.createdBy});
    return t;
  });
}

Result<std::vector<TokenInfo>> Registry::tokens() {
  return withConnection<std::vector<TokenInfo>>([&](SqlConnection& db) -> Result<std::vector<TokenInfo>> {
    std::vector<TokenInfo> out;
    for (const auto& r : db.query(
             "SELECT id, name, role, functions, created_by, created_at, last_used_at FROM tokens ORDER BY created_at, id")) {
      TokenInfo t = tokenFromRow(r, 0);
      t.lastUsedAt = r.integer(6);
      out.push_back(std::move(t));
    }
    return out;
  });
}

Result<bool> Registry::revokeToken(const std::string& id) {
  return write<bool>([&](SqlConnection& db) -> Result<bool> {
    auto row = db.query("SELECT role FROM tokens WHERE id=$1", {id});
    if (row.empty()) return false;
    if (row[0].text(0) == "admin" &&
        db.query("SELECT count(*) FROM tokens WHERE role='admin'").at(0).integer(0) <= 1)
      return Error{"that is the last admin token: create another admin token first"};
    // Its dashboard sessions end with it.
    db.exec("DELETE FROM sessions WHERE token_hash IN (SELECT hash FROM tokens WHERE id=$1)", {id});
    return db.exec("DELETE FROM tokens WHERE id=$1", {id}) > 0;
  });
}

void Registry::touchToken(const std::string& sha256) {
  const int64_t t = now();
  {
    std::lock_guard lock(touchMu_);
    auto& last = touched_[sha256];
    if (t - last < 60) return;
    last = t;
  }
  (void)withConnection<void>([&](SqlConnection& db) -> Result<void> {
    db.exec("UPDATE tokens SET last_used_at=$1 WHERE hash=$2", {t, sha256});
    return {};
  });
}

bool Registry::hasTokenHash(const std::string& sha256) const { return catalog()->tokens.count(sha256) > 0; }

std::optional<TokenInfo> Registry::token(const std::string& sha256) const {
  auto c = catalog();
  auto it = c->tokens.find(sha256);
  if (it == c->tokens.end()) return std::nullopt;
  return it->second;
}

Result<int64_t> Registry::tokenCount() {
  return withConnection<int64_t>(
      [&](SqlConnection& db) -> Result<int64_t> { return db.query("SELECT count(*) FROM tokens").at(0).integer(0); });
}

}  // namespace fn0::registry
