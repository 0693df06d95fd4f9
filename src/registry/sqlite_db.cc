// SqlConnection over SQLite (SQLiteCpp): the single-node registry file, in
// WAL mode with full sync. `$N` parameters are bound by name.
#include <SQLiteCpp/SQLiteCpp.h>

#include "registry/sql.h"

namespace fn0::registry {

namespace {

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(const std::string& file) try : db_(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=FULL");
    db_.exec("PRAGMA foreign_keys=ON");
    db_.exec("PRAGMA busy_timeout=5000");
  } catch (const std::exception& e) {
    throw SqlError("cannot open the registry " + file + ": " + e.what(), false);
  }

  int64_t exec(const std::string& sql, const SqlParams& params) override {
    return run([&] {
      auto st = prepare(sql, params);
      return static_cast<int64_t>(st.exec());
    });
  }

  std::vector<SqlRow> query(const std::string& sql, const SqlParams& params) override {
    return run([&] {
      auto st = prepare(sql, params);
      std::vector<SqlRow> rows;
      while (st.executeStep()) {
        SqlRow row;
        for (int i = 0; i < st.getColumnCount(); i++) {
          auto col = st.getColumn(i);
          if (col.isNull())
            row.cells.emplace_back();
          else
            row.cells.emplace_back(col.getString());
        }
        rows.push_back(std::move(row));
      }
      return rows;
    });
  }

  void script(const std::string& sql) override {
    run([&] { return db_.exec(sql); });
  }
  void begin(Tx kind) override {
    run([&] { return db_.exec(kind == Tx::Write ? "BEGIN IMMEDIATE" : "BEGIN"); });
  }
  void commit() override {
    run([&] { return db_.exec("COMMIT"); });
  }
  void rollback() noexcept override {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
  int schemaVersion() override {
    return run([&] { return db_.execAndGet("PRAGMA user_version").getInt(); });
  }
  void setSchemaVersion(int v) override {
    run([&] { return db_.exec("PRAGMA user_version=" + std::to_string(v)); });
  }
  void lockForMigration() override {}  // BEGIN IMMEDIATE already holds the write lock
  void notifyChanged() override {}     // one process: nobody else to tell
  void ensureConnected() override {}
  const char* bigint() const override { return "INTEGER"; }
  Dialect dialect() const override { return Dialect::Sqlite; }

 private:
  SQLite::Statement prepare(const std::string& sql, const SqlParams& params) {
    SQLite::Statement st(db_, sql);
    for (size_t i = 0; i < params.size(); i++) {
      const std::string name = "$" + std::to_string(i + 1);
      if (std::holds_alternative<int64_t>(params[i])) {
        st.bind(name, std::get<int64_t>(params[i]));
      } else if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
        // An empty blob still binds as a value (a NULL pointer would be NULL).
        static const char kNothing = 0;
        st.bind(name, blob->bytes.empty() ? &kNothing : blob->bytes.data(), static_cast<int>(blob->bytes.size()));
      } else {
        st.bind(name, std::get<std::string>(params[i]));
      }
    }
    return st;
  }
  template <typename F>
  auto run(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const SqlError&) {
      throw;
    } catch (const std::exception& e) {
      throw SqlError(e.what(), false);
    }
  }

  SQLite::Database db_;
};

}  // namespace

std::unique_ptr<SqlConnection> openSqlite(const std::string& file) { return std::make_unique<SqliteConnection>(file); }

const std::string& SqlRow::text(size_t i) const {
  static const std::string kEmpty;
  return cells.at(i) ? *cells[i] : kEmpty;
}

int64_t SqlRow::integer(size_t i) const {
  const auto& t = text(i);
  return t.empty() ? 0 : std::stoll(t);
}

}  // namespace fn0::registry
