// libpq connections for the PostgreSQL registry and its change watcher.
#pragma once

#include <string>

typedef struct pg_conn PGconn;

namespace fn0::registry {

// Connects with fn0's timeouts and keepalives; throws SqlError naming the
// server (never the password) and why, e.g. "connection refused".
PGconn* connectPostgres(const std::string& url);

class SqlConnection;
// The libpq handle under a connection from openPostgres() (the watcher
// waits on its socket).
PGconn* postgresHandle(SqlConnection& c);

}  // namespace fn0::registry
