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
        else if (PQftype(r.get(), c) == kByteaOid)
          row.cells.emplace_back(fromHex(PQgetvalue(r.get(), i, c), PQgetlength(r.get(), i, c)));
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
  Dialect dialect() const override { return Dialect::Postgres; }

  PGconn* raw() { return conn_; }

 private:
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

  void connect() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;  // stays null if the server is still away
    conn_ = connectPostgres(url_);
  }

  void simple(const std::string& sql) { ResultPtr r(checked(PQexec(conn_, sql.c_str()), sql), &PQclear); }

  // Text parameters, except bytes (SqlBlob): those go in binary, as BYTEA.
  ResultPtr run(const std::string& sql, const SqlParams& params) {
    const size_t n = params.size();
    std::vector<std::string> text(n);
    std::vector<const char*> values(n);
    std::vector<int> lengths(n, 0), formats(n, 0);
    std::vector<Oid> types(n, 0);
    for (size_t i = 0; i < n; i++) {
      if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
        values[i] = blob->bytes.data();
        lengths[i] = static_cast<int>(blob->bytes.size());
        formats[i] = 1;
        types[i] = kByteaOid;
        continue;
      }
      text[i] = std::holds_alternative<int64_t>(params[i]) ? std::to_string(std::get<int64_t>(params[i]))
                                                           : std::get<std::string>(params[i]);
      values[i] = text[i].c_str();
    }
    return ResultPtr(checked(PQexecParams(conn_, sql.c_str(), static_cast<int>(n), types.data(), values.data(),
                                          lengths.data(), formats.data(), 0),
                             sql),
                     &PQclear);
  }

  // A BYTEA column in text form: "\x" and two hex digits per byte.
  static std::string fromHex(const char* s, int len) {
    auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    if (len < 2 || s[0] != '\\' || s[1] != 'x') return std::string(s, len);
    out.reserve((len - 2) / 2);
    for (int i = 2; i + 1 < len; i += 2) out.push_back(static_cast<char>(digit(s[i]) << 4 | digit(s[i + 1])));
    return out;
  }
  static constexpr Oid kByteaOid = 17;

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
