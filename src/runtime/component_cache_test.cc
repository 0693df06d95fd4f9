// Compiling, rejecting bad components, the on-disk artifacts and the
// in-memory LRU.
#include "runtime/component_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "runtime/testing/exchange.h"
#include "runtime/testing/guests.h"

namespace fn0::runtime {
namespace {

using testing::readFile;
using testing::RuntimeTest;

class Cache : public RuntimeTest {
 protected:
  std::string rejection(const std::vector<uint8_t>& bytes) {
    auto r = cache_->prepare(bytes);
    EXPECT_FALSE(r.ok()) << "accepted a bad component";
    return r.ok() ? "" : r.error().message;
  }
};

TEST_F(Cache, RejectsBytesThatAreNotWasm) {
  std::string text = "<html>not wasm</html>";
  EXPECT_NE(rejection({text.begin(), text.end()}).find("not a WebAssembly binary"), std::string::npos);
  EXPECT_NE(rejection({}).find("not a WebAssembly binary"), std::string::npos);
}

TEST_F(Cache, RejectsACoreModuleAndSaysHowToAdaptIt) {
  auto msg = rejection(readFile(std::filesystem::path(FN0_EXAMPLES_DIR) / "hello-c.core.wasm"));
  EXPECT_NE(msg.find("core WebAssembly module"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wasm-tools component new"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsAComponentWithoutTheHandlerExport) {
  auto msg = rejection(readFile(testing::guest("no-export")));
  EXPECT_NE(msg.find("does not export wasi:http/incoming-handler"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsAComponentWhoseImportIsNotProvided) {
  auto msg = rejection(readFile(testing::guest("unknown-import")));
  EXPECT_NE(msg.find("imports something fn0 does not provide"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fn0:missing/nothing"), std::string::npos) << msg;
}

TEST_F(Cache, RejectsTruncatedComponent) {
  auto bytes = readFile(testing::example("hello-c"));
  bytes.resize(bytes.size() / 2);
  EXPECT_NE(rejection(bytes).find("invalid component"), std::string::npos);
}

TEST_F(Cache, PrepareIsIdempotentAndKeyedByContent) {
  auto bytes = readFile(testing::example("hello-c"));
  auto a = cache_->prepare(bytes);
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto mtime = std::filesystem::last_write_time(cache_->artifactPath(*a));
  auto b = cache_->prepare(bytes);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 64u);  // sha256 hex
  EXPECT_EQ(std::filesystem::last_write_time(cache_->artifactPath(*a)), mtime) << "recompiled identical bytes";
}

TEST_F(Cache, ServesFromMemoryAfterTheFirstLoad) {
  auto hash = cache_->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(hash.ok());
  auto first = cache_->get(*hash);
  auto second = cache_->get(*hash);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(cache_->stats().loads, 1u);
  EXPECT_EQ(cache_->stats().hits, 1u);
  EXPECT_GT(cache_->stats().bytes, 0u);
}

TEST_F(Cache, ANewProcessLoadsTheArtifactWithoutCompiling) {
  auto hash = cache_->prepare(readFile(testing::example("hello-c")));
  ASSERT_TRUE(hash.ok());
  // A second engine and cache over the same directory stand in for a restart.
  auto engine = Engine::create(EngineConfig{});
  ASSERT_TRUE(engine.ok());
  ComponentCache restarted(*engine, dir_ / "artifacts", 1ull << 30);
  EXPECT_TRUE(restarted.hasArtifact(*hash));
  auto c = restarted.get(*hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto ex = testing::exchange(*engine, *c, RequestHead{});
  EXPECT_EQ(ex.status, 200);
}

// Bytes and resident bytes of this process's executable mappings of `file`
// (/proc/self/smaps).
std::pair<uint64_t, uint64_t> residentCode(const std::filesystem::path& file) {
  std::ifstream smaps("/proc/self/smaps");
  uint64_t size = 0, rss = 0;
  bool mine = false;
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms;
    if (range.find('-') != std::string::npos && perms.size() == 4) {
      in >> offset >> dev >> inode >> path;
      mine = path == file.string() && perms == "r-xp";
      if (mine) size += std::stoull(range.substr(range.find('-') + 1), nullptr, 16) -
                        std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    } else if (mine && range == "Rss:") {
      rss += std::stoull(perms) * 1024;
    }
  }
  return {size, rss};
}

// The first request after a load must not pay for the artifact's page faults
// out of its CPU budget: the load brings the whole mapping in (before, a
// JavaScript component's first request after a restart with a cold page
// cache spent ~8 ms of its 10 ms faulting it in).
TEST_F(Cache, ALoadBringsTheWholeArtifactIntoMemory) {
  auto hash = cache_->prepare(readFile(testing::example("hello-js")));
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  const auto path = std::filesystem::canonical(cache_->artifactPath(*hash));  // as smaps names it
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // as after a reboot
  ::close(fd);
  auto c = cache_->get(*hash);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto [size, rss] = residentCode(path);
  ASSERT_GT(size, 1u << 20);  // ~20 MB of code; no request has run any of it
  EXPECT_GE(rss, size * 95 / 100) << rss << " of " << size << " bytes resident";
}

TEST_F(Cache, UnknownHashIsAnError) {
  auto c = cache_->get(std::string(64, 'a'));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("no compiled artifact"), std::string::npos);
}

TEST_F(Cache, EvictsLeastRecentlyUsedBeyondTheBudget) {
  ComponentCache small(*engine_, dir_ / "artifacts", 1);  // room for one entry
  auto a = small.prepare(readFile(testing::example("hello-c")));
  auto b = small.prepare(readFile(testing::example("echo-c")));
  ASSERT_TRUE(a.ok() && b.ok());
  auto ca = small.get(*a);
  auto cb = small.get(*b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(small.stats().entries, 1u);
  EXPECT_EQ(small.stats().evictions, 1u);
  // The evicted component still works for whoever holds it.
  EXPECT_EQ(testing::exchange(*engine_, *ca, RequestHead{}).status, 200);
}

TEST_F(Cache, EvictsBeyondTheEntryCapWhateverTheBytes) {
  ComponentCache capped(*engine_, dir_ / "artifacts", 1ull << 30, 2);
  std::vector<std::string> hashes;
  for (const char* name : {"hello-c", "echo-c", "hello-c-copy"}) {
    auto bytes = readFile(testing::example(name == std::string("hello-c-copy") ? "hello-c" : name));
    if (name == std::string("hello-c-copy")) {
      // Another component (a custom section appended): its own hash and entry.
      const uint8_t section[] = {0x00, 0x05, 0x04, 'c', 'o', 'p', 'y'};
      bytes.insert(bytes.end(), std::begin(section), std::end(section));
    }
    auto h = capped.prepare(bytes);
    ASSERT_TRUE(h.ok()) << h.error().message;
    ASSERT_TRUE(capped.get(*h).ok());
    hashes.push_back(*h);
  }
  EXPECT_EQ(capped.stats().entries, 2u);
  EXPECT_EQ(capped.stats().evictions, 1u);
  EXPECT_FALSE(capped.resident(hashes[0]));
  EXPECT_TRUE(capped.resident(hashes[2]));
}

TEST(CacheCap, FollowsTheMapCountLimit) {
  // 65530 (the default) -> 12,286 entries; whatever this machine has, the
  // cap leaves room and is never below the floor.
  EXPECT_GE(ComponentCache::maxEntriesForMapCount(), 256u);
  std::ifstream in("/proc/sys/vm/max_map_count");
  size_t maps = 0;
  if (in >> maps && maps > 16384 + 4 * 256) {
    EXPECT_EQ(ComponentCache::maxEntriesForMapCount(), (maps - 16384) / 4);
  }
}

}  // namespace
}  // namespace fn0::runtime
