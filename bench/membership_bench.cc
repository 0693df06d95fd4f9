// What cluster membership costs PostgreSQL: N `cluster::Membership`
// instances in this process (each on its own thread and connection, like N
// nodes) beat against a real server with synthetic load and warm sets, and
// the run prints one line of measurements. Not a test: it never fails on a
// figure. bench/membership.py runs it at several sizes and prints a table.
//
//   membership_bench --registry postgres://USER@HOST:PORT/DB [--nodes N]
//     [--functions F] [--warm W] [--churn C[,C...]] [--seconds S]
//     [--interval-ms MS] [--timeout-ms MS] [--warmup S] [--seed X]
//
// Several churn values measure one after the other on the same nodes (one
// join, one line each). A long --interval-ms with churn divided by the same
// factor gives each beat the work of a 1 s beat at a rate this machine can
// simulate (the script does that for the largest sizes).
//
// The database must be one the bench may write to: it removes the rows it
// creates (ids "bench-node-*") before and after the run; other rows in
// cluster_nodes stay, and every node reads them too (the line says how many).
//
// How each figure is taken, over the measured window (after all nodes have
// beaten twice and a warm-up), each over its own span:
// - pg_cpu: CPU time of the whole server, from /proc: the postmaster's own
//   utime+stime, plus cutime+cstime (children that exited and were reaped,
//   e.g. autovacuum workers), plus utime+stime of every live child of the
//   postmaster (backends, checkpointer, walwriter, autovacuum...). The
//   postmaster is the parent of the bench's stats backend
//   (pg_backend_pid()); the server must run on this machine.
// - pg_pss_mb: the server's memory at the end of the window (the sum of
//   every server process's proportional set size, /proc/PID/smaps_rollup).
// - bench_cpu, machine_busy: getrusage of this process; /proc/stat.
// - beats: the nodes' own counters. What one beat carries is averaged over
//   the beats the Sources callbacks saw (each sees the view the previous
//   beat read), then multiplied by beats/s.
// - stmts_per_beat: counted on the client: an UPDATE and a SELECT, the warm
//   fetch when a peer's warm_gen changed, the clean-up DELETE every 60th.
//   pg_xacts: pg_stat_database xact_commit+xact_rollback (each statement is
//   its own transaction), tup_returned/tup_fetched: rows the server read by
//   sequential / index scans (TOAST chunks included). A busy backend may
//   keep these to itself for up to 60 s, so they can lag at large N.
// - rows: rows the nodes' SELECTs returned (the size of each node's view);
//   warm fetches and warm MB: warm sets the nodes re-read (a new set object
//   in a view) and their text size (16 characters per function).
// - wire: TCP bytes on the nodes' connections (TCP_INFO bytes_received =
//   sent by the server, bytes_acked = sent to it), protocol overhead
//   included. wal: pg_current_wal_lsn() difference.
// The nodes' threads run at nice 5 (main's snapshots are not starved when
// they are behind) and malloc gets an arena per thread.
// - period: time between two beats of a node (the Membership waits the
//   interval after each beat, so it is interval + beat time + wake-up);
//   beat = period - interval. gone: the share of peers the nodes' views
//   showed as "gone" (beat older than the timeout) although they all run.
#include <fmt/core.h>
#include <libpq-fe.h>
#include <linux/tcp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster/membership.h"
#include "common/sha256.h"
#include "registry/postgres.h"
#include "registry/registry.h"
#include "registry/sql.h"

using namespace fn0;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string registry;
  int nodes = 10;
  int functions = 10000;
  int warm = -1;  // default: min(F, ceil(3F/N)), three warm copies per function
  std::vector<double> churns{0.01};
  double seconds = 15;
  double warmup = 3;
  int intervalMs = 1000;
  int timeoutMs = -1;  // default: 2.5 intervals, as the 1 s / 2.5 s of MembershipConfig
  uint64_t seed = 1;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "membership_bench: %s\nusage: membership_bench --registry postgres://USER@HOST:PORT/DB [--nodes N] "
               "[--functions F] [--warm W] [--churn C[,C...]] [--seconds S] [--interval-ms MS] [--timeout-ms MS] [--warmup S] "
               "[--seed X]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--registry") o.registry = value();
      else if (a == "--nodes") o.nodes = std::stoi(value());
      else if (a == "--functions") o.functions = std::stoi(value());
      else if (a == "--warm") o.warm = std::stoi(value());
      else if (a == "--churn") {
        o.churns.clear();
        std::istringstream in(value());
        for (std::string c; std::getline(in, c, ',');) o.churns.push_back(std::stod(c));
      }
      else if (a == "--seconds") o.seconds = std::stod(value());
      else if (a == "--warmup") o.warmup = std::stod(value());
      else if (a == "--interval-ms") o.intervalMs = std::stoi(value());
      else if (a == "--timeout-ms") o.timeoutMs = std::stoi(value());
      else if (a == "--seed") o.seed = std::stoull(value());
      else usage(("unknown option " + a).c_str());
    } catch (const std::logic_error&) {
      usage(("bad value for " + a).c_str());
    }
  }
  if (o.registry.empty()) usage("--registry is required");
  if (o.nodes < 1 || o.functions < 1 || o.intervalMs < 1 || o.seconds <= 0 || o.churns.empty() ||
      *std::min_element(o.churns.begin(), o.churns.end()) < 0)
    usage("bad value");
  if (o.warm < 0) o.warm = std::min<int>(o.functions, (3 * o.functions + o.nodes - 1) / o.nodes);
  o.warm = std::min(o.warm, o.functions);
  if (o.timeoutMs < 0) o.timeoutMs = o.intervalMs * 5 / 2;
  return o;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// --- /proc ------------------------------------------------------------------

struct ProcStat {
  int ppid = 0;
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;  // clock ticks
};

bool readProcStat(int pid, ProcStat& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');  // the command may contain spaces and parentheses
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string t; rest >> t;) f.push_back(t);
  if (f.size() < 15) return false;
  out.ppid = std::stoi(f[1]);
  out.utime = std::stoull(f[11]);
  out.stime = std::stoull(f[12]);
  out.cutime = std::stoull(f[13]);
  out.cstime = std::stoull(f[14]);
  return true;
}

std::string procComm(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

// The server's CPU seconds so far and how many processes it has.
struct ServerCpu {
  double seconds = 0;
  int processes = 0;
};

ServerCpu serverCpu(int postmaster) {
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ServerCpu out;
  ProcStat pm;
  if (!readProcStat(postmaster, pm)) return {-1, 0};
  uint64_t ticks = pm.utime + pm.stime + pm.cutime + pm.cstime;
  out.processes = 1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    ProcStat s;
    if (!readProcStat(std::stoi(name), s) || s.ppid != postmaster) continue;
    ticks += s.utime + s.stime;
    out.processes++;
  }
  out.seconds = ticks / tick;
  return out;
}

// The server's memory: the proportional set size (shared pages split
// between the processes that map them) of the postmaster and its children.
double serverPssMb(int postmaster) {
  auto pss = [](int pid) -> double {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string key; in >> key;) {
      if (key == "Pss:") {
        double kb = 0;
        in >> kb;
        return kb;
      }
      in.ignore(1 << 20, '\n');
    }
    return 0;
  };
  double kb = pss(postmaster);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    ProcStat s;
    if (readProcStat(std::stoi(name), s) && s.ppid == postmaster) kb += pss(std::stoi(name));
  }
  return kb / 1024;
}

double processCpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Busy and total CPU seconds of the machine (all cores).
std::pair<double, double> machineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  uint64_t v[8] = {};
  for (auto& x : v) in >> x;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  uint64_t total = 0;
  for (auto x : v) total += x;
  const uint64_t idle = v[3] + v[4];
  return {(total - idle) / tick, total / tick};
}

// TCP bytes on this process's connections to the server's port, except `skip`.
struct Wire {
  uint64_t fromServer = 0, toServer = 0;
  int sockets = 0;
};

Wire wireBytes(uint16_t port, int skip) {
  Wire w;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(e.path().filename().c_str());
    struct stat st {};
    if (fd == skip || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    uint16_t p = 0;
    if (peer.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
    else if (peer.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
    if (p != port) continue;
    tcp_info info{};
    socklen_t ilen = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0) continue;
    w.fromServer += info.tcpi_bytes_received;
    w.toServer += info.tcpi_bytes_acked;
    w.sockets++;
  }
  return w;
}

uint16_t peerPort(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return 0;
  if (peer.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
  if (peer.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
  return 0;  // a Unix socket: no wire figures
}

// --- server statistics ------------------------------------------------------

struct DbStats {
  double xacts = 0, tupReturned = 0, tupFetched = 0, walBytes = 0;
};

DbStats dbStats(registry::SqlConnection& db) {
  const auto rows = db.query(
      "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint FROM pg_stat_database WHERE datname = current_database()");
  DbStats s;
  if (rows.empty()) return s;
  s.xacts = static_cast<double>(rows[0].integer(0));
  s.tupReturned = static_cast<double>(rows[0].integer(1));
  s.tupFetched = static_cast<double>(rows[0].integer(2));
  s.walBytes = static_cast<double>(rows[0].integer(3));
  return s;
}

// --- synthetic nodes --------------------------------------------------------

constexpr const char* kIdPrefix = "bench-node-";

// What a node's callbacks saw in the window; summed over nodes at the end.
struct Seen {
  std::vector<float> periodsMs;
  // `views`: views looked at (each the rows of one SELECT); `fetchBeats`:
  // of them, those whose beat re-read some warm set; `warmCalls`: warm sets
  // handed to the Membership, `warmChanges` of them changed.
  uint64_t views = 0, rows = 0, peers = 0, gone = 0, missing = 0, fetchBeats = 0, warmFetches = 0, warmBytes = 0;
  uint64_t warmCalls = 0, warmChanges = 0;
  int64_t maxAgeMs = 0;

  void add(const Seen& o) {
    periodsMs.insert(periodsMs.end(), o.periodsMs.begin(), o.periodsMs.end());
    views += o.views, rows += o.rows, peers += o.peers, gone += o.gone, missing += o.missing;
    fetchBeats += o.fetchBeats, warmFetches += o.warmFetches, warmBytes += o.warmBytes;
    warmCalls += o.warmCalls, warmChanges += o.warmChanges;
    maxAgeMs = std::max(maxAgeMs, o.maxAgeMs);
  }
};

struct Node {
  std::unique_ptr<cluster::Membership> membership;
  // Only on the node's thread.
  std::mt19937_64 rng;
  std::vector<uint32_t> set;    // indices of the functions it holds warm
  std::vector<uint8_t> member;  // per function: in `set`
  Clock::time_point lastWarm{}, lastBeat{};
  std::shared_ptr<const cluster::View> prevView;
  // Shared with main.
  std::mutex mu;
  bool measuring = false;
  Seen seen;
};

// Values taken at the edges of a window, each with the time it was read.
template <typename T>
struct Timed {
  T value{};
  Clock::time_point at{};
};

template <typename F>
auto timed(F&& f) {
  const auto t0 = Clock::now();
  auto v = f();
  const auto t1 = Clock::now();
  return Timed<decltype(v)>{std::move(v), t0 + (t1 - t0) / 2};
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const auto interval = std::chrono::milliseconds(opt.intervalMs);

  // A thousand threads on glibc's default 16 arenas spend their time
  // waiting for malloc's locks: the bench must not be what limits the beats.
  ::mallopt(M_ARENA_MAX, opt.nodes + 16);

  // One file descriptor per node, and then some.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < static_cast<rlim_t>(opt.nodes) + 64)
    std::fprintf(stderr, "membership_bench: only %lu file descriptors for %d nodes\n",
                 static_cast<unsigned long>(nofile.rlim_cur), opt.nodes);

  // The schema: opening the registry runs its migrations (cluster_nodes is 4).
  {
    const auto tmp = std::filesystem::temp_directory_path() / fmt::format("fn0-membership-bench-{}", ::getpid());
    std::filesystem::create_directories(tmp);
    auto reg = registry::Registry::open(opt.registry, tmp, nullptr);  // the schema only: no secrets
    std::filesystem::remove_all(tmp);
    if (!reg) {
      std::fprintf(stderr, "membership_bench: %s\n", reg.error().message.c_str());
      return 1;
    }
  }

  std::unique_ptr<registry::SqlConnection> db;
  int postmaster = 0;
  uint16_t port = 0;
  int statsFd = -1;
  int64_t otherRows = 0;
  try {
    db = registry::openPostgres(opt.registry);
    statsFd = PQsocket(registry::postgresHandle(*db));
    port = peerPort(statsFd);
    db->exec("DELETE FROM cluster_nodes WHERE id LIKE 'bench-node-%'");
    db->script("VACUUM cluster_nodes");
    otherRows = db->query("SELECT count(*) FROM cluster_nodes")[0].integer(0);
    const int backend = static_cast<int>(db->query("SELECT pg_backend_pid()")[0].integer(0));
    ProcStat s;
    if (readProcStat(backend, s) && procComm(s.ppid) == "postgres") postmaster = s.ppid;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "membership_bench: %s\n", e.what());
    return 1;
  }
  if (!postmaster)
    std::fprintf(stderr, "membership_bench: the server's processes are not visible here: no pg_cpu figure\n");

  // The functions' content hashes.
  std::vector<std::string> hashes(opt.functions);
  for (int i = 0; i < opt.functions; i++) {
    const std::string name = "fn-" + std::to_string(i);
    hashes[i] = sha256Hex({reinterpret_cast<const uint8_t*>(name.data()), name.size()});
  }

  std::atomic<double> churn{opt.churns.front()};
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.reserve(opt.nodes);
  for (int n = 0; n < opt.nodes; n++) {
    auto node = std::make_unique<Node>();
    node->rng.seed(opt.seed * 1000003 + n);
    node->member.assign(opt.functions, 0);
    // A uniform random subset of W functions (partial Fisher-Yates).
    std::vector<uint32_t> all(opt.functions);
    for (int i = 0; i < opt.functions; i++) all[i] = i;
    for (int i = 0; i < opt.warm; i++) {
      std::uniform_int_distribution<int> pick(i, opt.functions - 1);
      std::swap(all[i], all[pick(node->rng)]);
      node->set.push_back(all[i]);
      node->member[all[i]] = 1;
    }
    Node* self = node.get();
    cluster::Membership::Sources sources;
    // Called first in each beat: the time since the previous one, and what
    // the previous beat read.
    sources.load = [self, &opt]() {
      // The nodes' threads yield to main's: with a thousand of them behind
      // on CPU, main's snapshots would otherwise take a minute.
      static thread_local bool niced = (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5), true);
      (void)niced;
      const auto now = Clock::now();
      auto view = self->membership->view();
      std::lock_guard lock(self->mu);
      auto& seen = self->seen;
      if (self->measuring && self->lastBeat != Clock::time_point{})
        seen.periodsMs.push_back(static_cast<float>(seconds(now - self->lastBeat) * 1000));
      self->lastBeat = now;
      if (self->measuring && view->readAt != Clock::time_point{}) {
        seen.views++;
        seen.rows += view->members.size();
        uint64_t ours = 0, fetched = 0;
        const auto& prev = self->prevView;
        for (size_t i = 0; i < view->members.size(); i++) {
          const auto& m = view->members[i];
          if (m.id.rfind(kIdPrefix, 0) != 0) continue;
          ours++;
          // A re-read warm set is a new object.
          const bool same = prev && i < prev->members.size() && prev->members[i].id == m.id &&
                            prev->members[i].warm.get() == m.warm.get();
          if (prev && !same && m.warm->size() > 0) {
            fetched++;
            seen.warmBytes += m.warm->size() * 16;
          }
          if (m.self) continue;
          seen.peers++;
          if (m.state == "gone") seen.gone++;
          seen.maxAgeMs = std::max(seen.maxAgeMs, m.heartbeatAgeMs);
        }
        seen.warmFetches += fetched;
        seen.fetchBeats += fetched > 0;
        if (ours < static_cast<uint64_t>(opt.nodes)) seen.missing += opt.nodes - ours;
      }
      self->prevView = std::move(view);
      std::uniform_int_distribution<uint32_t> running(0, 64);
      return cluster::Membership::Load{running(self->rng), 64};
    };
    sources.warmHashes = [self, &opt, &hashes, &churn]() {
      const auto now = Clock::now();
      // Replace churn * W functions per second, rounded at random.
      int k = 0;
      if (self->lastWarm != Clock::time_point{} && opt.warm < opt.functions && opt.warm > 0) {
        const double x = churn.load() * opt.warm * seconds(now - self->lastWarm);
        k = static_cast<int>(x);
        if (std::uniform_real_distribution<double>(0, 1)(self->rng) < x - k) k++;
        std::uniform_int_distribution<size_t> slot(0, self->set.size() - 1);
        std::uniform_int_distribution<uint32_t> fn(0, opt.functions - 1);
        for (int j = 0; j < k; j++) {
          uint32_t g;
          do g = fn(self->rng);
          while (self->member[g]);
          auto& s = self->set[slot(self->rng)];
          self->member[s] = 0;
          self->member[g] = 1;
          s = g;
        }
      }
      self->lastWarm = now;
      {
        std::lock_guard lock(self->mu);
        if (self->measuring) {
          self->seen.warmCalls++;
          self->seen.warmChanges += k > 0;
        }
      }
      std::vector<std::string> out;
      out.reserve(self->set.size());
      for (auto i : self->set) out.push_back(hashes[i]);
      return out;
    };
    node->membership = std::make_unique<cluster::Membership>(
        opt.registry, fmt::format("{}{:05}:8080", kIdPrefix, n), std::move(sources),
        cluster::MembershipConfig{.interval = interval, .timeout = std::chrono::milliseconds(opt.timeoutMs)});
    nodes.push_back(std::move(node));
  }

  // Joins spread over one interval, as independent nodes would, but no
  // more than 100 a second (a node that cannot connect retries an interval
  // later).
  const auto spread = std::max<Clock::duration>(interval, std::chrono::milliseconds(10) * opt.nodes);
  const auto joinStart = Clock::now();
  for (int n = 0; n < opt.nodes; n++) {
    std::this_thread::sleep_until(joinStart + spread * n / opt.nodes);
    nodes[n]->membership->start();
  }
  // Everyone has beaten twice (joined, read everyone's warm sets).
  const auto joinDeadline = Clock::now() + 5 * interval + std::chrono::seconds(60);
  for (;;) {
    int ready = 0;
    for (auto& n : nodes) ready += n->membership->stats().beats >= 2;
    if (ready == opt.nodes) break;
    if (Clock::now() > joinDeadline) {
      std::fprintf(stderr, "membership_bench: only %d of %d nodes beat twice in time\n", ready, opt.nodes);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double joinSeconds = seconds(Clock::now() - joinStart);

  struct Snapshot {
    Timed<ServerCpu> server;
    Timed<double> bench;
    Timed<std::pair<double, double>> machine;
    Timed<Wire> wire;
    Timed<std::pair<uint64_t, uint64_t>> beats;  // beats, failures
    Timed<DbStats> db;
  };
  auto snapshot = [&] {
    Snapshot s;
    s.beats = timed([&] {
      std::pair<uint64_t, uint64_t> b{};
      for (auto& n : nodes) {
        const auto st = n->membership->stats();
        b.first += st.beats;
        b.second += st.failures;
      }
      return b;
    });
    s.bench = timed(processCpu);
    s.machine = timed(machineCpu);
    s.server = timed([&] { return postmaster ? serverCpu(postmaster) : ServerCpu{-1, 0}; });
    s.wire = timed([&] { return port ? wireBytes(port, statsFd) : Wire{}; });
    s.db = timed([&] {
      try {
        return dbStats(*db);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "membership_bench: %s\n", e.what());
        return DbStats{};
      }
    });
    return s;
  };

  for (const double c : opt.churns) {
    churn = c;
    std::this_thread::sleep_for(std::chrono::duration<double>(opt.warmup));
    for (auto& n : nodes) {
      std::lock_guard lock(n->mu);
      n->measuring = true;
      n->seen = Seen{};
    }
    const auto t0 = Clock::now();
    const Snapshot a = snapshot();
    const auto t1 = Clock::now();
    std::this_thread::sleep_until(t1 + std::chrono::duration<double>(opt.seconds));
    const auto t2 = Clock::now();
    const Snapshot b = snapshot();
    const double snapshotSeconds = seconds(t1 - t0) + seconds(Clock::now() - t2);
    const double pssMb = postmaster ? serverPssMb(postmaster) : NAN;
    Seen seen;
    for (auto& n : nodes) {
      std::lock_guard lock(n->mu);
      n->measuring = false;
      seen.add(n->seen);
    }

    // Rates: each difference over its own span; what a beat carries,
    // averaged over the beats the callbacks saw, times beats/s.
    auto rate = [](const auto& x, const auto& y, double d) { return d / seconds(y.at - x.at); };
    const double beats = rate(a.beats, b.beats, static_cast<double>(b.beats.value.first - a.beats.value.first));
    const double expected = opt.nodes * 1000.0 / opt.intervalMs;
    auto perView = [&](uint64_t v) { return seen.views ? static_cast<double>(v) / seen.views : NAN; };
    const double rowsPerBeat = perView(seen.rows), fetchesPerBeat = perView(seen.warmFetches);
    const double warmBytesPerBeat = perView(seen.warmBytes);
    const double stmtsPerBeat = 2 + perView(seen.fetchBeats) + 1.0 / 60;
    const double changed = seen.warmCalls ? static_cast<double>(seen.warmChanges) / seen.warmCalls : NAN;
    const bool haveCpu = a.server.value.seconds >= 0 && b.server.value.seconds >= 0;
    const double pgCores = rate(a.server, b.server, b.server.value.seconds - a.server.value.seconds);
    const double benchCores = rate(a.bench, b.bench, b.bench.value - a.bench.value);
    const double machineCores = rate(a.machine, b.machine, b.machine.value.first - a.machine.value.first);
    const double fromPg = rate(a.wire, b.wire, static_cast<double>(b.wire.value.fromServer - a.wire.value.fromServer));
    const double toPg = rate(a.wire, b.wire, static_cast<double>(b.wire.value.toServer - a.wire.value.toServer));
    const auto& da = a.db.value;
    const auto& dbb = b.db.value;
    auto& p = seen.periodsMs;
    std::sort(p.begin(), p.end());
    auto quantile = [&](double q) -> double {
      return p.empty() ? NAN : p[std::min(p.size() - 1, static_cast<size_t>(q * p.size()))];
    };
    auto maybe = [](bool have, double v, int digits) { return have ? fmt::format("{:.{}f}", v, digits) : "na"; };
    const double mb = 1e6;
    fmt::print(
        "membership nodes={} functions={} warm={} churn={} interval_ms={} timeout_ms={} seconds={:.1f} "
        "other_rows={} join_s={:.1f} beats_per_s={:.1f} expected_per_s={:.1f} beat_ratio={:.3f} failures={} "
        "period_ms_p50={:.0f} period_ms_p99={:.0f} period_ms_max={:.0f} beat_ms_p50={:.1f} beat_ms_p99={:.1f} "
        "max_age_ms={} gone_pct={:.3f} missing_seen={} snapshot_s={:.2f} "
        "pg_cpu_cores={} pg_cpu_ms_per_beat={} pg_procs={} pg_pss_mb={:.0f} bench_cpu_cores={:.3f} bench_cpu_ms_per_beat={:.3f} "
        "machine_busy_cores={:.2f} machine_cores={} "
        "stmts_per_beat={:.3f} stmts_per_s={:.0f} pg_xacts_per_s={:.0f} rows_per_beat={:.1f} rows_per_s={:.0f} "
        "tup_returned_per_s={:.0f} tup_fetched_per_s={:.0f} warm_changed_per_beat={:.3f} "
        "warm_fetches_per_beat={:.1f} warm_fetches_per_s={:.0f} warm_kb_per_beat={:.1f} warm_mb_per_s={:.2f} "
        "wire_from_pg_mb_per_s={} wire_to_pg_mb_per_s={} wire_kb_per_beat={} wal_mb_per_s={:.3f}\n",
        opt.nodes, opt.functions, opt.warm, c, opt.intervalMs, opt.timeoutMs, seconds(b.beats.at - a.beats.at),
        otherRows, joinSeconds, beats, expected, beats / expected, b.beats.value.second - a.beats.value.second,
        quantile(0.5), quantile(0.99), p.empty() ? NAN : p.back(), quantile(0.5) - opt.intervalMs,
        quantile(0.99) - opt.intervalMs, seen.maxAgeMs, seen.peers ? 100.0 * seen.gone / seen.peers : NAN,
        seen.missing, snapshotSeconds, maybe(haveCpu, pgCores, 3),
        maybe(haveCpu && beats > 0, pgCores / beats * 1000, 3), b.server.value.processes, pssMb, benchCores, beats > 0 ? benchCores / beats * 1000 : NAN, machineCores,
        std::thread::hardware_concurrency(), stmtsPerBeat, stmtsPerBeat * beats,
        rate(a.db, b.db, dbb.xacts - da.xacts), rowsPerBeat, rowsPerBeat * beats,
        rate(a.db, b.db, dbb.tupReturned - da.tupReturned), rate(a.db, b.db, dbb.tupFetched - da.tupFetched),
        changed, fetchesPerBeat, fetchesPerBeat * beats, warmBytesPerBeat / 1e3, warmBytesPerBeat * beats / mb,
        maybe(port != 0, fromPg / mb, 2), maybe(port != 0, toPg / mb, 2),
        maybe(port != 0 && beats > 0, (fromPg + toPg) / beats / 1e3, 1),
        rate(a.db, b.db, dbb.walBytes - da.walBytes) / mb);
    std::fflush(stdout);
  }

  // All leave at once: each leave waits for its node's beat to end, then
  // writes once (one by one, a thousand starved nodes take minutes).
  {
    std::vector<std::thread> leavers;
    leavers.reserve(nodes.size());
    for (auto& n : nodes) leavers.emplace_back([m = n->membership.get()] { m->leave(); });
    for (auto& t : leavers) t.join();
  }
  try {
    db->exec("DELETE FROM cluster_nodes WHERE id LIKE 'bench-node-%'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "membership_bench: %s\n", e.what());
  }
  return 0;
}
