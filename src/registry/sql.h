// The little SQL the registry needs, over two engines: SQLite (one file in
// the data directory) and PostgreSQL (shared by a cluster). The registry's
// statements are written once, in the dialect both accept: `$1, $2, ...`
// parameters, ON CONFLICT, RETURNING. Values travel as text, or as bytes
// (SqlBlob, a BLOB / BYTEA column, read back as the same bytes); a failure
// throws SqlError, which the registry turns into a Result.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fn0::registry {

// Bytes for a BLOB (SQLite) / BYTEA (PostgreSQL) column; any byte values.
struct SqlBlob {
  std::string bytes;
};
using SqlValue = std::variant<int64_t, std::string, SqlBlob>;
using SqlParams = std::vector<SqlValue>;

struct SqlRow {
  std::vector<std::optional<std::string>> cells;
  const std::string& text(size_t i) const;
  int64_t integer(size_t i) const;
};

class SqlError : public std::runtime_error {
 public:
  // `unavailable`: the server cannot be reached (the write may be retried
  // later); otherwise the statement itself failed.
  SqlError(const std::string& what, bool unavailable) : std::runtime_error(what), unavailable_(unavailable) {}
  bool unavailable() const { return unavailable_; }

 private:
  bool unavailable_;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Rows changed.
  virtual int64_t exec(const std::string& sql, const SqlParams& params = {}) = 0;
  virtual std::vector<SqlRow> query(const std::string& sql, const SqlParams& params = {}) = 0;
  // Several statements without parameters (a migration).
  virtual void script(const std::string& sql) = 0;
  // Snapshot: every statement sees the same committed state (a reload).
  // Write: each statement sees what was committed before it ran; writers
  // serialise on the generation row they all update first.
  enum class Tx { Write, Snapshot };
  virtual void begin(Tx kind) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // Schema migrations: how many ran, serialised between nodes that start together.
  virtual int schemaVersion() = 0;
  virtual void setSchemaVersion(int v) = 0;  // inside the migration's transaction
  virtual void lockForMigration() = 0;       // inside the migration's transaction
  // Inside a write transaction: tell every other node, once it commits.
  virtual void notifyChanged() = 0;
  // Reconnects when the server went away and came back (no-op for SQLite).
  virtual void ensureConnected() = 0;
  // Text for a 64-bit integer column in CREATE TABLE ("INTEGER" or "BIGINT").
  virtual const char* bigint() const = 0;
  // Where the dialects differ beyond that (the key-value store's schema).
  enum class Dialect { Sqlite, Postgres };
  virtual Dialect dialect() const = 0;
};

// One transaction: rolled back unless committed.
class SqlTransaction {
 public:
  SqlTransaction(SqlConnection& c, SqlConnection::Tx kind) : c_(c) { c_.begin(kind); }
  ~SqlTransaction() {
    if (!done_) c_.rollback();
  }
  void commit() {
    c_.commit();
    done_ = true;
  }
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;

 private:
  SqlConnection& c_;
  bool done_ = false;
};

std::unique_ptr<SqlConnection> openSqlite(const std::string& file);
// `url`: postgres://USER[:PASSWORD]@HOST:PORT/DB (libpq also takes its
// keyword form). Throws SqlError naming the problem.
std::unique_ptr<SqlConnection> openPostgres(const std::string& url);

// The channel registry changes are announced on.
inline constexpr const char* kChangeChannel = "fn0_registry";

}  // namespace fn0::registry
