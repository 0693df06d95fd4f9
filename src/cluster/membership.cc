#include "cluster/membership.h"

#include <fmt/core.h>

#include "registry/sql.h"

namespace fn0::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using registry::SqlParams;

// Milliseconds on the database's clock: every node's beats are compared on
// one clock, so skew between machines does not matter.
constexpr const char* kNowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

// Rows older than this are removed by whichever node beats next.
constexpr int64_t kForgetAfterMs = 3600 * 1000;

std::string arrayLiteral(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (const auto& id : ids) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : id) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

// One connection and what it last read of everyone's warm sets.
class Session {
 public:
  explicit Session(const std::string& url) : db(registry::openPostgres(url)) {}
  std::unique_ptr<registry::SqlConnection> db;
  bool joined = false;
  WarmSet written;  // our own warm set as last written
  struct Known {
    int64_t gen = -1;
    std::shared_ptr<const WarmSet> set = std::make_shared<WarmSet>();
  };
  std::unordered_map<std::string, Known> warm;
  uint64_t beats = 0;
};

Membership::Membership(std::string registryUrl, std::string self, Sources sources, MembershipConfig config)
    : url_(std::move(registryUrl)), self_(std::move(self)), sources_(std::move(sources)), config_(config),
      view_(std::make_shared<View>()) {}

Membership::~Membership() { leave(); }

void Membership::start() { thread_ = std::thread([this] { run(); }); }

void Membership::leave() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    left_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const View> Membership::view() const {
  std::lock_guard lock(mu_);
  return view_;
}

void Membership::suspect(const std::string& id) {
  std::lock_guard lock(mu_);
  suspects_[id] = Clock::now();
}

bool Membership::suspected(const Member& m) const {
  std::lock_guard lock(mu_);
  auto it = suspects_.find(m.id);
  return it != suspects_.end() && it->second >= m.beatAt;
}

bool Membership::up(const Member& m, Clock::time_point now) const {
  return m.state == "up" && now - m.beatAt < config_.timeout && !suspected(m);
}

Membership::Stats Membership::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Membership::run() {
  std::unique_ptr<Session> session;
  bool reported = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stop_) break;
    }
    try {
      if (!session) session = std::make_unique<Session>(url_);
      beat(*session);
      if (reported) fmt::print(stderr, "fn0: cluster membership: registry reachable again\n");
      reported = false;
    } catch (const std::exception& e) {
      session.reset();  // reconnect next time
      {
        std::lock_guard lock(mu_);
        stats_.failures++;
        stats_.connected = false;
      }
      if (!reported) fmt::print(stderr, "fn0: cluster membership: cannot beat ({}); retrying\n", e.what());
      reported = true;
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, config_.interval, [this] { return stop_; });
  }
  if (!left_) return;
  // A clean stop: peers stop sending here at their next read, not after
  // the timeout.
  try {
    if (!session) session = std::make_unique<Session>(url_);
    session->db->exec("UPDATE cluster_nodes SET state = 'left', running = 0, warm = '', warm_count = 0, "
                      "warm_gen = warm_gen + 1, heartbeat_ms = " + std::string(kNowMs) + " WHERE id = $1",
                      SqlParams{self_});
  } catch (const std::exception& e) {
    fmt::print(stderr, "fn0: cluster membership: could not mark this node as left ({}); peers will time it out\n",
               e.what());
  }
}

void Membership::beat(Session& s) {
  const Load load = sources_.load ? sources_.load() : Load{};
  std::vector<uint64_t> keys;
  if (sources_.warmHashes)
    for (const auto& h : sources_.warmHashes())
      if (auto k = warmKey(h)) keys.push_back(*k);
  WarmSet warm(std::move(keys));
  const std::string now(kNowMs);
  const int64_t running = load.running, capacity = load.capacity, count = static_cast<int64_t>(warm.size());
  if (s.joined && warm == s.written) {
    s.joined = s.db->exec("UPDATE cluster_nodes SET heartbeat_ms = " + now +
                              ", state = 'up', running = $2, capacity = $3 WHERE id = $1",
                          SqlParams{self_, running, capacity}) > 0;
  } else if (s.joined) {
    s.joined = s.db->exec("UPDATE cluster_nodes SET heartbeat_ms = " + now +
                              ", state = 'up', running = $2, capacity = $3, warm_count = $4, warm = $5, "
                              "warm_gen = warm_gen + 1 WHERE id = $1",
                          SqlParams{self_, running, capacity, count, warm.text()}) > 0;
  }
  if (!s.joined) {  // first beat, or our row was removed meanwhile
    s.db->exec("INSERT INTO cluster_nodes (id, address, started_ms, heartbeat_ms, state, running, capacity, "
               "warm_count, warm_gen, warm) VALUES ($1, $1, " + now + ", " + now + ", 'up', $2, $3, $4, 1, $5) "
               "ON CONFLICT (id) DO UPDATE SET started_ms = EXCLUDED.started_ms, heartbeat_ms = "
               "EXCLUDED.heartbeat_ms, state = 'up', running = EXCLUDED.running, capacity = EXCLUDED.capacity, "
               "warm_count = EXCLUDED.warm_count, warm = EXCLUDED.warm, warm_gen = cluster_nodes.warm_gen + 1",
               SqlParams{self_, running, capacity, count, warm.text()});
    s.joined = true;
  }
  s.written = std::move(warm);

  const auto rows = s.db->query("SELECT id, state, running, capacity, warm_count, warm_gen, started_ms, " + now +
                                " - heartbeat_ms FROM cluster_nodes ORDER BY id");
  const auto readAt = Clock::now();
  std::vector<std::string> stale;
  for (const auto& r : rows) {
    auto& k = s.warm[r.text(0)];
    if (k.gen != r.integer(5)) stale.push_back(r.text(0));
  }
  if (!stale.empty()) {
    for (const auto& r : s.db->query("SELECT id, warm_gen, warm FROM cluster_nodes WHERE id = ANY($1::text[])",
                                     SqlParams{arrayLiteral(stale)})) {
      auto& k = s.warm[r.text(0)];
      k.gen = r.integer(1);
      k.set = std::make_shared<WarmSet>(WarmSet::parse(r.text(2)));
    }
  }
  auto view = std::make_shared<View>();
  view->readAt = readAt;
  for (const auto& r : rows) {
    Member m;
    m.id = r.text(0);
    m.self = m.id == self_;
    m.state = r.text(1);
    m.running = static_cast<uint32_t>(r.integer(2));
    m.capacity = static_cast<uint32_t>(r.integer(3));
    m.warmCount = static_cast<uint32_t>(r.integer(4));
    m.startedMs = r.integer(6);
    m.heartbeatAgeMs = std::max<int64_t>(0, r.integer(7));
    m.beatAt = readAt - std::chrono::milliseconds(m.heartbeatAgeMs);
    if (m.state == "up" && m.heartbeatAgeMs >= config_.timeout.count()) m.state = "gone";
    m.warm = s.warm[m.id].set;
    view->members.push_back(std::move(m));
  }
  if (++s.beats % 60 == 0)
    s.db->exec("DELETE FROM cluster_nodes WHERE heartbeat_ms < " + now + " - $1", SqlParams{kForgetAfterMs});
  std::lock_guard lock(mu_);
  view_ = std::move(view);
  stats_.beats++;
  stats_.connected = true;
  for (auto it = suspects_.begin(); it != suspects_.end();) {
    bool beatSince = false;
    for (const auto& m : view_->members)
      if (m.id == it->first && m.beatAt > it->second) beatSince = true;
    it = beatSince ? suspects_.erase(it) : std::next(it);
  }
}

}  // namespace fn0::cluster
