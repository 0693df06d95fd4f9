// The PostgreSQL registry's watcher: a thread with its own connection that
// LISTENs for other nodes' changes and reloads the catalog on each one.
// A notification is not durable, so after every (re)connect it reloads from
// the tables before it waits again; a reload every 30 s is the backstop for
// anything missed. The request path never waits on any of this.
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <fmt/core.h>
#include <thread>

#include "registry/postgres.h"
#include "registry/registry.h"
#include "registry/sql.h"

namespace fn0::registry {

namespace {
constexpr auto kResyncEvery = std::chrono::seconds(30);
constexpr auto kPoll = std::chrono::milliseconds(100);  // how soon a stop is seen
}  // namespace

void Registry::watch(std::string url) {
  auto backoff = std::chrono::milliseconds(100);
  bool reported = false;  // "lost the registry" once per outage, not per retry
  while (!stop_) {
    try {
      auto conn = openPostgres(url);
      PGconn* pg = postgresHandle(*conn);
      conn->script(std::string("LISTEN ") + kChangeChannel);
      reload(*conn);
      {
        std::lock_guard lock(catalogMu_);
        watch_.connected = true;
      }
      if (reported) fmt::print(stderr, "fn0: registry reachable again; catalog resynced\n");
      reported = false;
      backoff = std::chrono::milliseconds(100);
      auto lastReload = std::chrono::steady_clock::now();
      while (!stop_) {
        // A notification that arrived while a reload's queries ran is
        // already in libpq's queue, with nothing left on the socket to wake
        // poll(): take those first, or that change waits for the resync.
        bool changed = false;
        while (PGnotify* n = PQnotifies(pg)) {
          changed = true;
          PQfreemem(n);
        }
        pollfd p{PQsocket(pg), POLLIN, 0};
        const int ready = changed ? 0 : ::poll(&p, 1, static_cast<int>(kPoll.count()));
        if (ready > 0) {
          if (!PQconsumeInput(pg)) throw SqlError(PQerrorMessage(pg), true);
          while (PGnotify* n = PQnotifies(pg)) {
            changed = true;
            PQfreemem(n);
          }
        }
        if (PQstatus(pg) != CONNECTION_OK) throw SqlError("connection closed", true);
        if (changed || std::chrono::steady_clock::now() - lastReload > kResyncEvery) {
          reload(*conn);
          lastReload = std::chrono::steady_clock::now();
        }
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(catalogMu_);
        if (watch_.connected) watch_.reconnects++;
        watch_.connected = false;
        watch_.failures++;
      }
      if (!reported)
        fmt::print(stderr, "fn0: registry unreachable, serving from the last catalog and retrying: {}\n", e.what());
      reported = true;
      for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stop_; slept += kPoll)
        std::this_thread::sleep_for(kPoll);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }
}

}  // namespace fn0::registry
