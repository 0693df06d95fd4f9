// Secrets at rest: the registry's `secrets` rows hold values sealed by
// secret_box.h under a key from the key file (secret_keys.h), never the
// values; the catalog the request path uses holds them opened (the guest
// needs them as environment variables). docs/secrets.md is the operator's
// side of this.
//
// Which key seals what:
// - each row names the key that sealed it (`secrets.key_id`; NULL for a
//   value an older fn0 stored in clear);
// - `registry_state.secrets_key_id` is the key every node seals new values
//   with. It lives in the registry, not in each node's file, so nodes whose
//   files list the same keys in another order (a new key being handed out
//   for a rotation) still agree, and a node whose file lacks it is refused
//   at start instead of sealing values the others cannot open.
//
// A node opens a value with whichever of its keys the row names, reading
// its key file again when the row names one it does not hold yet: a
// rotation (`fn0 secrets-key rotate`) reaches running nodes through their
// files, without a restart.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <map>
#include <set>

#include "registry/registry.h"
#include "registry/secret_box.h"
#include "registry/secret_keys.h"
#include "registry/sql.h"

namespace fn0::registry {

namespace {

Error sqlError(const SqlError& e) {
  return Error{std::string("registry: ") + e.what(), e.unavailable() ? kRegistryUnavailable : ""};
}

std::string plural(int64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string declaredKey(SqlConnection& db) {
  return db.query("SELECT secrets_key_id FROM registry_state WHERE id = 1").at(0).text(0);  // NULL: ""
}

}  // namespace

Result<void> Registry::setUpSecrets() {
  if (!keys_) return {};
  const std::string file = keys_->file().string();
  try {
    // Deleted and overwritten content is zeroed in the file rather than
    // left in free pages (old values of rows sealed below, for one).
    if (db_->dialect() == SqlConnection::Dialect::Sqlite) db_->script("PRAGMA secure_delete=ON");
    int64_t sealedNow = 0;
    bool changed = false;
    std::string keyId;
    {
      SqlTransaction tx(*db_, SqlConnection::Tx::Write);
      db_->lockForMigration();  // nodes starting together take turns
      // The row every writer updates first: no secret is written meanwhile.
      db_->exec("UPDATE registry_state SET generation = generation WHERE id = 1");
      keyId = declaredKey(*db_);
      std::map<std::string, int64_t> used;
      for (const auto& row : db_->query("SELECT key_id, count(*) FROM secrets WHERE key_id IS NOT NULL GROUP BY key_id"))
        used[row.text(0)] = row.integer(1);

      if (!keys_->fileExists()) {
        // A new key only for a registry that has none: anything else would
        // seal values the other nodes (or this registry's past) cannot open.
        if (!keyId.empty() || !used.empty()) {
          std::set<std::string> ids;
          for (const auto& [id, n] : used) ids.insert(id);
          if (!keyId.empty()) ids.insert(keyId);
          // Without a sealed value the key was still chosen: by the first
          // node that started on this registry.
          return Error{fmt::format(
              "{} key {}, and there is no secrets key file at {}: give this node the key file the other nodes use "
              "(--secrets-key-file; every node sharing a registry needs the same keys). fn0 creates a key file only "
              "for a registry that has no key yet",
              used.empty() ? "the registry seals secrets with the first node's" : "the registry's secrets are sealed with",
              fmt::join(ids, ", "), file)};
        }
        if (auto id = keys_->generate()) {
          fmt::print(stderr,
                     "fn0: generated a secrets key ({}) in {} (mode 0600); secrets in the registry are sealed with "
                     "it. Keep a copy apart from registry backups: without it they cannot be read\n",
                     *id, file);
        } else if (!keys_->fileExists()) {
          return Error{"cannot create the secrets key file: " + id.error().message};
        } else if (auto loaded = keys_->load(); !loaded) {  // another process made it just now
          return loaded.error();
        }
      } else if (auto loaded = keys_->load(); !loaded) {
        return loaded.error();
      }

      std::vector<std::string> missing;
      for (const auto& [id, n] : used)
        if (!keys_->find(id)) missing.push_back(fmt::format("{} (it seals {})", id, plural(n, "secret")));
      if (!keyId.empty() && !used.count(keyId) && !keys_->find(keyId))
        missing.push_back(keyId + " (new secrets are sealed with it)");
      if (!missing.empty())
        return Error{fmt::format("the secrets key file {} does not hold key {} of the registry (it holds {}): give "
                                 "this node the key file the other nodes use, or the one `fn0 secrets-key rotate` "
                                 "last wrote",
                                 file, fmt::join(missing, ", "), fmt::join(keys_->ids(), ", "))};

      if (keyId.empty()) {  // the first node with a key
        keyId = keys_->newest()->id;
        db_->exec("UPDATE registry_state SET secrets_key_id = $1 WHERE id = 1", {keyId});
        changed = true;
      }
      // Values an older fn0 stored in clear, sealed in place, all or none.
      const auto key = keys_->find(keyId);
      for (const auto& row : db_->query("SELECT function, name, value FROM secrets WHERE key_id IS NULL")) {
        db_->exec("UPDATE secrets SET value = $1, key_id = $2 WHERE function = $3 AND name = $4",
                  {sealSecret(*key, row.text(0), row.text(1), row.text(2)), keyId, row.text(0), row.text(1)});
        sealedNow++;
      }
      if (changed || sealedNow) {
        db_->exec("UPDATE registry_state SET generation = generation + 1 WHERE id = 1");
        db_->notifyChanged();
      }
      tx.commit();
    }
    if (sealedNow) {
      fmt::print(stderr, "fn0: sealed {} stored in clear by an older fn0 (key {})\n", plural(sealedNow, "secret"),
                 keyId);
      compactSecrets(*db_);
    }
    return {};
  } catch (const SqlError& e) {
    return sqlError(e);
  }
}

Result<void> Registry::upsertSecret(SqlConnection& db, const std::string& function, const std::string& key,
                                    const std::string& value) {
  if (!keys_) return Error{"this process holds no secrets key: secrets cannot be set"};
  const std::string keyId = declaredKey(db);
  const auto k = keyId.empty() ? std::nullopt : keys_->find(keyId);
  if (!k)
    return Error{fmt::format("cannot seal the secret: the registry seals secrets with key {}, which this node's key "
                             "file {} does not hold (copy the key file `fn0 secrets-key rotate` wrote to every node)",
                             keyId.empty() ? "(none yet)" : keyId, keys_->file().string())};
  db.exec("INSERT INTO secrets(function, name, value, key_id) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT(function, name) DO UPDATE SET value = excluded.value, key_id = excluded.key_id",
          {function, key, sealSecret(*k, function, key, value), keyId});
  return {};
}

void Registry::loadSecrets(SqlConnection& db, Catalog& into, uint64_t& unreadable) {
  if (!keys_) return;
  const auto previous = catalog();
  // What the catalog held for a secret: the secrets come after the
  // variables in a function's list, so the last entry of that name.
  auto previousValue = [&](const std::string& function, const std::string& name) -> const std::string* {
    if (!previous) return nullptr;
    auto f = previous->functions.find(function);
    if (f == previous->functions.end()) return nullptr;
    for (auto it = f->second.env.rbegin(); it != f->second.env.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  };
  for (const auto& row : db.query("SELECT function, name, value, key_id FROM secrets ORDER BY function, name")) {
    const std::string &function = row.text(0), &name = row.text(1), &stored = row.text(2);
    std::optional<std::string> value;
    std::string problem;
    bool keepPrevious = false;
    if (!row.cells.at(3)) {
      // Written in clear by an older fn0 node still running on this
      // registry; sealed when a node of this version next starts.
      value = stored;
      problem = "is stored in clear (written by an older fn0); it is sealed when a node next starts";
    } else if (const auto key = keys_->find(*row.cells[3])) {
      value = openSecret(*key, function, name, stored);
      if (!value)
        problem = fmt::format("does not open with key {} (the row was altered, or copied from another function or "
                              "name): left out; set it again",
                              key->id);
    } else {
      // A key this node lacks: most likely a rotation whose key file has
      // not reached this node yet. The value is then the same as before
      // (a rotation seals the same values again): keep serving it.
      keepPrevious = true;
      problem = fmt::format("is sealed with key {}, which {} does not hold (copy the key file `fn0 secrets-key "
                            "rotate` wrote to this node)",
                            *row.cells[3], keys_->file().string());
    }
    if (!problem.empty()) {
      const std::string* before = keepPrevious ? previousValue(function, name) : nullptr;
      if (!value) unreadable++;
      const std::string line = fmt::format("fn0: secret {} of function {} {}{}\n", name, function, problem,
                                           !keepPrevious ? "" : before ? "; serving the value it had" : "; left out");
      {
        std::lock_guard lock(reportedMu_);
        if (reported_.insert(line).second) fmt::print(stderr, "{}", line);
      }
      if (before) value = *before;
    }
    // As for variables (registry.cc reload): what the guest cannot take stays out.
    if (!value || !checkVarName(name) || !checkVarValue(*value)) continue;
    into.functions[function].env.emplace_back(name, std::move(*value));
  }
}

void Registry::compactSecrets(SqlConnection& db) {
  // An UPDATE leaves the old row's bytes behind: in SQLite's free pages and
  // WAL, in PostgreSQL's dead tuples until a vacuum. Rewrite them away, so
  // a copy of the files taken from now on holds only what the rows hold.
  try {
    if (db.dialect() == SqlConnection::Dialect::Sqlite) {
      db.script("VACUUM");
      db.script("PRAGMA wal_checkpoint(TRUNCATE)");
    } else {
      db.script("VACUUM FULL secrets");
    }
  } catch (const SqlError& e) {
    fmt::print(stderr,
               "fn0: could not compact the registry after sealing secrets ({}); old copies of the rows stay in its "
               "files until the database reuses the space\n",
               e.what());
  }
}

Result<Registry::SecretsStatus> Registry::secretsStatus() {
  std::lock_guard lock(mu_);
  try {
    db_->ensureConnected();
    SqlTransaction tx(*db_, SqlConnection::Tx::Snapshot);
    SecretsStatus s;
    s.keyId = declaredKey(*db_);
    for (const auto& row : db_->query("SELECT key_id, count(*) FROM secrets GROUP BY key_id")) {
      if (row.cells.at(0))
        s.valuesByKey[*row.cells[0]] = row.integer(1);
      else
        s.clear = row.integer(1);
    }
    tx.commit();
    return s;
  } catch (const SqlError& e) {
    return sqlError(e);
  }
}

Result<int64_t> Registry::rotateSecrets(const std::string& keyId) {
  if (!keys_) return Error{"this process holds no secrets key"};
  const std::string file = keys_->file().string();
  const auto target = keys_->find(keyId);
  if (!target) return Error{"the secrets key file " + file + " does not hold key " + keyId};
  std::lock_guard lock(mu_);
  try {
    db_->ensureConnected();
    int64_t count = 0;
    {
      // One transaction, like any registry write: every node sees all the
      // values sealed again, with the new key declared, or none of it.
      SqlTransaction tx(*db_, SqlConnection::Tx::Write);
      db_->exec("UPDATE registry_state SET generation = generation + 1 WHERE id = 1");
      for (const auto& row : db_->query("SELECT function, name, value, key_id FROM secrets ORDER BY function, name")) {
        const std::string &function = row.text(0), &name = row.text(1);
        if (row.cells.at(3) == keyId) continue;
        std::optional<std::string> value = row.text(2);  // in clear: an older node wrote it
        if (const auto& was = row.cells[3]) {
          const auto key = keys_->find(*was);
          if (!key)
            return Error{fmt::format("secret {} of function {} is sealed with key {}, which {} does not hold; nothing "
                                     "was changed",
                                     name, function, *was, file)};
          value = openSecret(*key, function, name, row.text(2));
          if (!value)
            return Error{fmt::format("secret {} of function {} does not open with key {} (an altered row): set it "
                                     "again (fn0 secret {} set {}), then rotate; nothing was changed",
                                     name, function, *was, function, name)};
        }
        db_->exec("UPDATE secrets SET value = $1, key_id = $2 WHERE function = $3 AND name = $4",
                  {sealSecret(*target, function, name, *value), keyId, function, name});
        count++;
      }
      db_->exec("UPDATE registry_state SET secrets_key_id = $1 WHERE id = 1", {keyId});
      db_->notifyChanged();
      tx.commit();
    }
    try {
      reload(*db_);
    } catch (const SqlError&) {
      // Committed; the catalog catches up on the next reload.
    }
    compactSecrets(*db_);
    return count;
  } catch (const SqlError& e) {
    return sqlError(e);
  }
}

}  // namespace fn0::registry
