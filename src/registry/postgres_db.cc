// SqlConnection over PostgreSQL (libpq): the registry a cluster shares.
// Statements run with text parameters; a lost connection is reported as
// unavailable (SqlError::unavailable) and re-established by ensureConnected.
#include <libpq-fe.h>

#include <string>

#include "registry/postgres.h"
#include "registry/sql.h"

namespace fn0::registry {

namespace {

// For messages: the URL without a password.
std::string redacted(const std::string& url) {
  auto at = url.find('@'), scheme = url.find("://");
  if (at == std::string::npos || scheme == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

std::string trimmed(const char* s) {
  std::string m = s ? s : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(const std::string& url) : url_(url) { connect(); }
  ~PgConnection() override {
    if (conn_) PQfinish(conn_);
  }

  int64_t exec(const std::string& sql, const SqlParams& params) override {
    auto r = run(sql, params);
    const char* n = PQcmdTuples(r.get());
    return n && *n ? std::stoll(n) : 0;
  }

  std::vector<SqlRow> query(const std::string& sql, const SqlParams& params) override {
    auto r = run(sql, params);
    std::vector<SqlRow> rows;
    const int n = PQntuples(r.get()), cols = PQnfields(r.get());
    rows.reserve(n);
    for (int i = 0; i < n; i++) {
      SqlRow row;
      for (int c = 0; c < cols; c++) {
        if (PQgetisnull(r.get(), i, c))
          row.cells.emplace_back();
        else
          row.cells.emplace_back(std::string(PQgetvalue(r.get(), i, c), PQgetlength(r.get(), i, c)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  void script(const std::string& sql) override { simple(sql); }
  // REPEATABLE READ: a reload sees one snapshot. READ COMMITTED for
  // writes: once a writer holds the generation row, it sees every earlier
  // write (REPEATABLE READ would fail it with a serialisation error).
  void begin(Tx kind) override {
    simple(kind == Tx::Snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ" : "BEGIN");
  }
  void commit() override { simple("COMMIT"); }
  void rollback() noexcept override {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  }
  int schemaVersion() override {
    simple("CREATE TABLE IF NOT EXISTS fn0_schema (version INTEGER NOT NULL)");
    auto rows = query("SELECT version FROM fn0_schema", {});
    return rows.empty() ? 0 : static_cast<int>(rows[0].integer(0));
  }
  void setSchemaVersion(int v) override {
    simple("DELETE FROM fn0_schema");
    exec("INSERT INTO fn0_schema(version) VALUES ($1)", {static_cast<int64_t>(v)});
  }
  // Nodes starting together: one migrates, the others wait and then find
  // nothing left to do.
  void lockForMigration() override { simple("SELECT pg_advisory_xact_lock(7020830)"); }
  void notifyChanged() override { simple(std::string("NOTIFY ") + kChangeChannel); }
  void ensureConnected() override {
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) connect();
  }
  const char* bigint() const override { return "BIGINT"; }

  PGconn* raw() { return conn_; }

 private:
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

  void connect() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;  // stays null if the server is still away
    conn_ = connectPostgres(url_);
  }

  void simple(const std::string& sql) { ResultPtr r(checked(PQexec(conn_, sql.c_str()), sql), &PQclear); }

  ResultPtr run(const std::string& sql, const SqlParams& params) {
    std::vector<std::string> text;
    text.reserve(params.size());
    for (const auto& p : params)
      text.push_back(std::holds_alternative<int64_t>(p) ? std::to_string(std::get<int64_t>(p)) : std::get<std::string>(p));
    std::vector<const char*> values;
    for (const auto& t : text) values.push_back(t.c_str());
    return ResultPtr(checked(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                          nullptr, nullptr, 0),
                             sql),
                     &PQclear);
  }

  PGresult* checked(PGresult* r, const std::string& sql) {
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    std::string message = r ? trimmed(PQresultErrorMessage(r)) : "";
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    if (r) PQclear(r);
    const bool lost = PQstatus(conn_) != CONNECTION_OK;
    if (lost) throw SqlError("lost the connection to PostgreSQL at " + redacted(url_) + ": " + message, true);
    throw SqlError("PostgreSQL: " + message + " (in: " + sql.substr(0, 60) + ")", false);
  }

  std::string url_;
  PGconn* conn_ = nullptr;
};

}  // namespace

PGconn* connectPostgres(const std::string& url) {
  // libpq wants its own keywords on top of the URL: a short connect
  // timeout (a dead server fails fast) and keepalives (a vanished one is
  // noticed).
  const char* keys[] = {"dbname", "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "application_name", nullptr};
  const char* values[] = {url.c_str(), "3", "5", "2", "3", "fn0", nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (!c) throw SqlError("cannot allocate a PostgreSQL connection", true);
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = trimmed(PQerrorMessage(c));
    PQfinish(c);
    // "FATAL: ..." is the server refusing us (no such database, bad
    // password): not a server that is away, unless it is starting or
    // stopping.
    const bool refused = why.find("FATAL") == std::string::npos ||
                         why.find("the database system is") != std::string::npos;
    throw SqlError("cannot connect to the registry at " + redacted(url) + ": " + why, refused);
  }
  // The server's notices ("terminating connection due to ...") would go
  // to stderr; the watcher reports an outage once, in its own words.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PQclear(PQexec(c, "SET client_min_messages TO warning"));
  return c;
}

std::unique_ptr<SqlConnection> openPostgres(const std::string& url) { return std::make_unique<PgConnection>(url); }

PGconn* postgresHandle(SqlConnection& c) { return dynamic_cast<PgConnection&>(c).raw(); }

}  // namespace fn0::registry
