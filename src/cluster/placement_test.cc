#include "cluster/placement.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace fn0::cluster {
namespace {

constexpr uint64_t kKey = 0x0123456789abcdefULL;

Member member(const std::string& id, uint32_t running, uint32_t capacity, bool warm, bool self = false) {
  Member m;
  m.id = id;
  m.self = self;
  m.state = "up";
  m.running = running;
  m.capacity = capacity;
  m.warm = std::make_shared<WarmSet>(warm ? WarmSet({kKey}) : WarmSet());
  return m;
}

struct Fixture {
  View view;
  std::vector<std::string> down;
  std::function<bool(const Member&)> up = [this](const Member& m) {
    return std::find(down.begin(), down.end(), m.id) == down.end();
  };
  std::function<uint32_t(const std::string&)> none = [](const std::string&) { return 0u; };
  Fixture() { view.members.push_back(member("self:1", 0, 0, false, true)); }
  Plan run(Local self) { return plan(view, up, kKey, self, none); }
};

std::vector<std::string> ids(const std::vector<Target>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.self ? "self" : t.id);
  return out;
}

TEST(Placement, AloneAndColdRunsHere) {
  Fixture f;
  auto p = f.run({false, 0, 10});
  EXPECT_TRUE(p.warm.empty());
  EXPECT_TRUE(p.spare.empty());
}

TEST(Placement, AWarmPeerIsChosenOverAColdSelf) {
  Fixture f;
  f.view.members.push_back(member("a:1", 3, 10, true));
  f.view.members.push_back(member("b:1", 0, 10, false));
  auto p = f.run({false, 0, 10});
  EXPECT_EQ(ids(p.warm), std::vector<std::string>{"a:1"});
  EXPECT_EQ(ids(p.spare), std::vector<std::string>{"b:1"});
}

TEST(Placement, OnATieTheBetterOwnerGoesFirst) {
  Fixture f;
  f.view.members.push_back(member("a:1", 1, 10, true));
  auto p = f.run({true, 1, 10});
  const bool aOwns = ownerScore("a:1", kKey) > ownerScore("self:1", kKey);
  EXPECT_EQ(ids(p.warm), aOwns ? (std::vector<std::string>{"a:1", "self"}) : (std::vector<std::string>{"self", "a:1"}));
}

TEST(Placement, WarmHereIsAlwaysOneOfTheTwo) {
  Fixture f;
  for (int i = 0; i < 6; i++) f.view.members.push_back(member("p" + std::to_string(i) + ":1", 5, 10, true));
  auto p = f.run({true, 0, 10});  // idle here, half full there
  ASSERT_EQ(p.warm.size(), 2u);
  EXPECT_TRUE(p.warm[0].self) << "the less loaded choice is this node: no hop";
}

TEST(Placement, TheLessLoadedOfTwoGoesFirst) {
  Fixture f;
  f.view.members.push_back(member("a:1", 2, 10, true));
  auto p = f.run({true, 8, 10});
  EXPECT_EQ(ids(p.warm), (std::vector<std::string>{"a:1", "self"}));
}

TEST(Placement, LoadIsRelativeToCapacity) {
  Fixture f;
  f.view.members.push_back(member("a:1", 50, 100, true));  // half full
  auto p = f.run({true, 6, 10});                           // 60 % full
  EXPECT_EQ(ids(p.warm).front(), "a:1");
}

TEST(Placement, FullAndDownPeersAreNeverCandidates) {
  Fixture f;
  f.view.members.push_back(member("full:1", 10, 10, true));
  f.view.members.push_back(member("down:1", 0, 10, true));
  f.view.members.push_back(member("cold:1", 0, 10, false));
  f.down = {"down:1"};
  auto p = f.run({false, 0, 10});
  EXPECT_TRUE(p.warm.empty());
  EXPECT_EQ(ids(p.spare), std::vector<std::string>{"cold:1"});
}

TEST(Placement, ForwardsInFlightCountAsLoad) {
  Fixture f;
  f.view.members.push_back(member("a:1", 0, 4, true));
  auto busy = [](const std::string& id) { return id == "a:1" ? 4u : 0u; };
  auto p = plan(f.view, f.up, kKey, {false, 0, 10}, busy);
  EXPECT_TRUE(p.warm.empty()) << "a peer this node already keeps full is not a candidate";
}

TEST(Placement, AmongManyWarmPeersTheOwnersAreChosen) {
  Fixture f;
  std::vector<std::string> all;
  for (int i = 0; i < 8; i++) {
    all.push_back("10.0.0." + std::to_string(i) + ":8080");
    f.view.members.push_back(member(all.back(), 0, 10, true));
  }
  std::sort(all.begin(), all.end(),
            [](const std::string& a, const std::string& b) { return ownerScore(a, kKey) > ownerScore(b, kKey); });
  auto p = f.run({false, 0, 10});
  ASSERT_EQ(p.warm.size(), 2u);
  auto chosen = ids(p.warm);
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::string> owners{all[0], all[1]};
  std::sort(owners.begin(), owners.end());
  EXPECT_EQ(chosen, owners);
  // Every node ranks the same owners: the choice does not depend on who asks.
  Fixture g;
  g.view.members.front().id = "other:1";
  g.view.members.insert(g.view.members.end(), f.view.members.begin() + 1, f.view.members.end());
  auto q = g.run({false, 0, 10});
  auto chosen2 = ids(q.warm);
  std::sort(chosen2.begin(), chosen2.end());
  EXPECT_EQ(chosen2, owners);
}

TEST(Placement, SparePeersLeastLoadedFirst) {
  Fixture f;
  f.view.members.push_back(member("a:1", 5, 10, false));
  f.view.members.push_back(member("b:1", 1, 10, false));
  f.view.members.push_back(member("c:1", 9, 10, false));
  auto p = f.run({false, 10, 10});
  EXPECT_EQ(ids(p.spare), (std::vector<std::string>{"b:1", "a:1", "c:1"}));
}

TEST(WarmSet, TextRoundTripAndLookup) {
  auto k1 = *warmKey("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
  auto k2 = *warmKey("0000000000000001aaaa");
  WarmSet s({k1, k2, k1});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.text(), "0000000000000001ffeeddccbbaa9988");
  auto back = WarmSet::parse(s.text());
  EXPECT_EQ(back, s);
  EXPECT_TRUE(back.contains(k1));
  EXPECT_FALSE(back.contains(k1 + 1));
  EXPECT_FALSE(warmKey("short").has_value());
  EXPECT_FALSE(warmKey("zz00000000000000").has_value());
  EXPECT_EQ(WarmSet::parse("garbage!garbage!0000000000000001").size(), 1u);
}

}  // namespace
}  // namespace fn0::cluster
