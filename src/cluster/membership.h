// Cluster membership on the shared PostgreSQL registry: every node keeps one
// row in `cluster_nodes` (its advertised address, load and warm set), beats
// about once a second and reads everyone's rows back. A node whose beat is
// older than the timeout is gone; one that stopped cleanly says so. No
// quorum system of its own: the database the cluster already needs is the
// source of truth (docs/cluster.md has what this costs it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/warm_set.h"

namespace fn0::cluster {

struct Member {
  std::string id;       // the advertised HOST:PORT, also how peers reach it
  bool self = false;
  std::string state;    // "up", "gone" (beats stopped), "left" (stopped cleanly)
  uint32_t running = 0, capacity = 0;
  uint32_t warmCount = 0;
  int64_t startedMs = 0;       // Unix time, database clock
  int64_t heartbeatAgeMs = 0;  // at the last read
  std::chrono::steady_clock::time_point beatAt{};  // its last beat, on this node's clock
  std::shared_ptr<const WarmSet> warm;  // never null
};

// What this node knew at its last successful read: every row, self included.
struct View {
  std::vector<Member> members;
  std::chrono::steady_clock::time_point readAt{};
};

struct MembershipConfig {
  std::chrono::milliseconds interval{1000};  // beat and read
  std::chrono::milliseconds timeout{2500};   // a beat older than this: gone
};

class Membership {
 public:
  struct Load {
    uint32_t running = 0, capacity = 0;
  };
  // Called on the membership thread each beat.
  struct Sources {
    std::function<Load()> load;
    std::function<std::vector<std::string>()> warmHashes;  // content hashes resident in memory
  };

  Membership(std::string registryUrl, std::string self, Sources sources, MembershipConfig config = {});
  ~Membership();  // leaves (see leave)
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Joins and beats on a thread of its own (its own connection).
  void start();
  // Marks this node "left" (peers stop sending to it at once) and stops.
  void leave();

  std::shared_ptr<const View> view() const;
  const std::string& self() const { return self_; }
  // A forward to `id` failed to connect: not a candidate until it beats
  // again after now.
  void suspect(const std::string& id);
  bool suspected(const Member& m) const;
  // Up: beating within the timeout and not suspected.
  bool up(const Member& m, std::chrono::steady_clock::time_point now) const;

  struct Stats {
    uint64_t beats = 0, failures = 0;
    bool connected = false;
  };
  Stats stats() const;

 private:
  void run();
  void beat(class Session& s);

  const std::string url_, self_;
  const Sources sources_;
  const MembershipConfig config_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false, left_ = false;
  std::shared_ptr<const View> view_;
  // id -> when a forward to it failed; cleared by a later beat of it.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> suspects_;
  Stats stats_;
};

}  // namespace fn0::cluster
