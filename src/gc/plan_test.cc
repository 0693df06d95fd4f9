// The collector's decisions (plan.h): what retention keeps, which hashes
// stay referenced, what a key is, what is garbage.
#include "gc/plan.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace fn0::gc {
namespace {

std::string hashOf(char c) { return std::string(64, c); }

Version v(const std::string& fn, int64_t n, char h) { return Version{fn, n, hashOf(h), 100, 0}; }

std::vector<std::pair<std::string, int64_t>> ids(const std::vector<Version>& vs) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& x : vs) out.emplace_back(x.function, x.number);
  return out;
}

TEST(Retention, KeepsTheNewestNAndEveryAliasedOne) {
  std::vector<Version> versions;
  for (int64_t n = 1; n <= 6; n++) versions.push_back(v("a", n, 'a' + static_cast<char>(n - 1)));
  versions.push_back(v("b", 1, '1'));
  versions.push_back(v("b", 2, '2'));
  // Out of order on purpose: the plan sorts by number, not by position.
  std::swap(versions[0], versions[4]);
  std::map<std::string, std::set<int64_t>> aliased{{"a", {2, 6}}, {"b", {1}}};
  auto doomed = versionsBeyondRetention(versions, aliased, 2);
  // a: newest two are v6 v5; v2 is aliased; v1 v3 v4 go. b: only two versions.
  EXPECT_EQ(ids(doomed), (std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"a", 3}, {"a", 4}}));
}

TEST(Retention, ZeroKeepsEverything) {
  std::vector<Version> versions{v("a", 1, 'a'), v("a", 2, 'b'), v("a", 3, 'c')};
  EXPECT_TRUE(versionsBeyondRetention(versions, {}, 0).empty());
  EXPECT_EQ(ids(versionsBeyondRetention(versions, {}, 1)),
            (std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"a", 2}}));
}

TEST(Referenced, AHashSharedWithAnotherFunctionStays) {
  // a@v1 and b@v1 are the same bytes; a@v1 goes, b@v1 stays.
  std::vector<Version> versions{v("a", 1, 's'), v("a", 2, 'x'), v("b", 1, 's'), v("c", 1, 'y')};
  std::vector<Version> doomed{v("a", 1, 's'), v("c", 1, 'y')};
  auto refs = referencedHashes(versions, doomed, {hashOf('m')});
  EXPECT_EQ(refs, (std::unordered_set<std::string>{hashOf('s'), hashOf('x'), hashOf('m')}));
}

TEST(Classify, StoreKeys) {
  const std::string h = hashOf('a');
  auto original = classifyStoreKey({"sha256/aa/" + h, 10, 5});
  ASSERT_TRUE(original);
  EXPECT_EQ(original->kind, Kind::Original);
  EXPECT_EQ(original->hash, h);
  EXPECT_EQ(original->size, 10u);
  EXPECT_EQ(original->modifiedMs, 5);
  EXPECT_FALSE(original->local);
  auto artifact = classifyStoreKey({"artifacts/0123456789abcdef/" + h + ".cwasm", 1, 1});
  ASSERT_TRUE(artifact);
  EXPECT_EQ(artifact->kind, Kind::Artifact);
  EXPECT_EQ(artifact->hash, h);
  auto temp = classifyStoreKey({"sha256/aa/" + h + ".tmp.12.0a0b.3", 1, 1});
  ASSERT_TRUE(temp);
  EXPECT_EQ(temp->kind, Kind::Temporary);
  // Not fn0's, or not laid out as fn0 writes it: never touched.
  for (const std::string& key : std::vector<std::string>{"sha256/ab/" + h, "sha256/" + h, "sha256/aa/" + h + "x", "fn0-probe/123",
                                "artifacts/" + h + ".cwasm", "artifacts/fp/" + h, "other/aa/" + h,
                                "sha256/aa/" + std::string(64, 'A'), "artifacts/fp/x/" + h + ".cwasm"})
    EXPECT_FALSE(classifyStoreKey({key, 1, 1})) << key;
}

TEST(Classify, LocalFiles) {
  const std::string h = hashOf('b');
  auto art = classifyLocalArtifact({h + "-0123456789abcdef.cwasm", 7, 1});
  ASSERT_TRUE(art);
  EXPECT_EQ(art->kind, Kind::LocalArtifact);
  EXPECT_EQ(art->hash, h);
  EXPECT_TRUE(art->local);
  auto temp = classifyLocalArtifact({h + "-0123456789abcdef.cwasm.tmp.1.ab.0", 7, 1});
  ASSERT_TRUE(temp);
  EXPECT_EQ(temp->kind, Kind::Temporary);
  for (const std::string& name : std::vector<std::string>{h + ".cwasm", h + "-fp.wasm", "notes.txt", "sub/" + h + "-fp.cwasm"})
    EXPECT_FALSE(classifyLocalArtifact({name, 1, 1})) << name;
  auto orig = classifyLocalOriginal({"sha256/bb/" + h, 3, 1});
  ASSERT_TRUE(orig);
  EXPECT_EQ(orig->kind, Kind::LocalOriginal);
  EXPECT_TRUE(orig->local);
  EXPECT_FALSE(classifyLocalOriginal({"artifacts/fp/" + h + ".cwasm", 1, 1}));
}

TEST(Garbage, UnreferencedAndOlderThanTheGraceOnly) {
  const int64_t now = 10'000'000, grace = 60'000;
  std::vector<Object> objects{
      {Kind::Original, "old-unreferenced", hashOf('a'), 1, now - grace - 1},
      {Kind::Artifact, "old-referenced", hashOf('b'), 1, now - grace - 1},
      {Kind::Original, "young-unreferenced", hashOf('c'), 1, now - grace + 1},
      {Kind::Temporary, "young-temporary", "", 1, now - kTemporaryMinAgeMs + 1},
      {Kind::Temporary, "old-temporary", "", 1, now - kTemporaryMinAgeMs - 1},
  };
  auto out = garbage(objects, {hashOf('b')}, now, grace);
  std::vector<std::string> keys;
  for (const auto& o : out) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"old-unreferenced", "old-temporary"}));
  // Without a grace period a temporary file still gets its hour.
  keys.clear();
  for (const auto& o : garbage(objects, {hashOf('b')}, now, 0)) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"old-unreferenced", "young-unreferenced", "old-temporary"}));
}

}  // namespace
}  // namespace fn0::gc
