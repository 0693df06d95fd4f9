#include "cluster/placement.h"

#include <algorithm>

namespace fn0::cluster {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

struct Node {
  Target t;
  uint64_t score = 0;
  bool warm = false, full = false;
};

double ratio(uint64_t running, uint32_t capacity) {
  return static_cast<double>(running) / std::max<uint32_t>(capacity, 1);
}

}  // namespace

uint64_t ownerScore(const std::string& nodeId, uint64_t key) { return mix(fnv1a(nodeId) ^ mix(key)); }

Plan plan(const View& view, const std::function<bool(const Member&)>& up, uint64_t key, Local self,
          const std::function<uint32_t(const std::string&)>& extra) {
  std::vector<Node> nodes;
  std::string selfId;
  for (const auto& m : view.members) {
    if (m.self) {
      selfId = m.id;
      continue;
    }
    if (!up(m)) continue;
    Node n;
    n.t.id = m.id;
    const uint64_t running = uint64_t{m.running} + (extra ? extra(m.id) : 0);
    n.t.load = ratio(running, m.capacity);
    n.full = running >= m.capacity;
    n.warm = m.warm && m.warm->contains(key);
    n.score = ownerScore(m.id, key);
    nodes.push_back(std::move(n));
  }
  Node me;
  me.t.id = selfId;
  me.t.self = true;
  me.t.load = ratio(self.running, self.capacity);
  me.full = self.running >= self.capacity;
  me.warm = self.warm;
  me.score = ownerScore(selfId, key);
  nodes.push_back(me);
  // Owners first: the same order on every node.
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.score > b.score; });

  Plan p;
  std::vector<const Node*> holders;  // owners first
  for (const auto& n : nodes)
    if (n.warm && !n.full) holders.push_back(&n);
  // The two choices: the top two owners among the warm holders, this node
  // being one of them whenever it is warm.
  if (holders.size() > 2) {
    auto mine = std::find_if(holders.begin(), holders.end(), [](const Node* n) { return n->t.self; });
    if (mine != holders.end() && mine - holders.begin() >= 2) holders[1] = *mine;
    holders.resize(2);
  }
  // The less loaded first; on a tie the better owner, so that an idle
  // cluster sends a function to the same node (its warm copies converge
  // there instead of every node keeping one and each going cold).
  if (holders.size() == 2 && (holders[1]->t.load < holders[0]->t.load ||
                              (holders[1]->t.load == holders[0]->t.load && holders[1]->score > holders[0]->score)))
    std::swap(holders[0], holders[1]);
  for (const Node* n : holders) p.warm.push_back(n->t);

  std::vector<const Node*> spare;
  for (const auto& n : nodes)
    if (!n.t.self && !n.full &&
        std::none_of(holders.begin(), holders.end(), [&](const Node* h) { return h->t.id == n.t.id; }))
      spare.push_back(&n);
  std::stable_sort(spare.begin(), spare.end(), [](const Node* a, const Node* b) { return a->t.load < b->t.load; });
  for (const Node* n : spare) p.spare.push_back(n->t);
  return p;
}

}  // namespace fn0::cluster
