// Conformance suite for the code stores: the same tests run against the
// directory store and the S3 store (versitygw, started by
// tests/servers/with_servers.py, which exports FN0_TEST_S3_URL and the AWS_*
// variables), plus the failures only S3 has (credentials, bucket, server)
// and URL parsing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/code_store.h"

extern char** environ;

namespace fn0::store {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> v(size);
  std::minstd_rand gen(seed + 1);
  for (auto& b : v) b = static_cast<uint8_t>(gen());
  return v;
}

std::string randomTag() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

fs::path makeTempDir() {
  auto dir = fs::temp_directory_path() / ("fn0-store-test-" + randomTag());
  fs::create_directories(dir);
  return dir;
}

// Where the S3 instance is; the test fails (never skips) without it.
const char* s3Url() { return std::getenv("FN0_TEST_S3_URL"); }
constexpr const char* kNeedServer =
    "FN0_TEST_S3_URL is not set: run this test through the wrapper that starts versitygw:\n"
    "  python3 tests/servers/with_servers.py --s3 -- build/src/store/code_store_test   (or: make test)";

// Sets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// ---- the suite every store passes ------------------------------------------

class CodeStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "directory") {
      dir_ = makeTempDir();
      store_ = openDirectoryStore(dir_);
    } else {
      ASSERT_NE(s3Url(), nullptr) << kNeedServer;
      auto opened = openCodeStore(s3Url());
      ASSERT_TRUE(opened) << opened.error().message;
      store_ = std::move(*opened);
    }
    prefix_ = "test/" + randomTag() + "/";  // tests share the bucket
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<CodeStore> store_;
  std::string prefix_;
  fs::path dir_;
};

TEST_P(CodeStoreTest, CheckSucceeds) {
  auto r = store_->check();
  EXPECT_TRUE(r) << r.error().message;
}

TEST_P(CodeStoreTest, PutGetRoundTrip) {
  auto bytes = pattern(1000, 1);
  ASSERT_TRUE(store_->put(prefix_ + "a", bytes));
  auto got = store_->get(prefix_ + "a");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, bytes);
}

TEST_P(CodeStoreTest, EmptyObject) {
  ASSERT_TRUE(store_->put(prefix_ + "empty", {}));
  auto got = store_->get(prefix_ + "empty");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE((*got)->empty());
}

TEST_P(CodeStoreTest, MissingKeyIsNullopt) {
  auto got = store_->get(prefix_ + "missing");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_FALSE(got->has_value());
}

TEST_P(CodeStoreTest, Exists) {
  auto before = store_->exists(prefix_ + "e");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_FALSE(*before);
  ASSERT_TRUE(store_->put(prefix_ + "e", pattern(10, 2)));
  auto after = store_->exists(prefix_ + "e");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(*after);
}

TEST_P(CodeStoreTest, WriteOnce) {
  auto first = pattern(500, 3), second = pattern(700, 4);
  ASSERT_TRUE(store_->put(prefix_ + "once", first));
  auto again = store_->put(prefix_ + "once", second);
  EXPECT_TRUE(again) << again.error().message;
  auto got = store_->get(prefix_ + "once");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, first) << "a second put must not rewrite the object";
}

TEST_P(CodeStoreTest, BigObject) {
  auto bytes = pattern(20 << 20, 5);
  auto put = store_->put(prefix_ + "big", bytes);
  ASSERT_TRUE(put) << put.error().message;
  auto got = store_->get(prefix_ + "big");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE(**got == bytes) << "20 MB object differs after the round trip (size " << (*got)->size() << ")";
}

TEST_P(CodeStoreTest, Remove) {
  ASSERT_TRUE(store_->put(prefix_ + "r", pattern(10, 6)));
  ASSERT_TRUE(store_->remove(prefix_ + "r"));
  auto there = store_->exists(prefix_ + "r");
  ASSERT_TRUE(there);
  EXPECT_FALSE(*there);
  auto got = store_->get(prefix_ + "r");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  auto twice = store_->remove(prefix_ + "r");
  EXPECT_TRUE(twice) << "removing a missing object is not an error: " << twice.error().message;
}

TEST_P(CodeStoreTest, KeysWithSlashes) {
  const std::string hash(64, 'a');
  for (const std::string& key : {prefix_ + componentKey(hash), prefix_ + artifactKey(hash, "0123abcd"),
                                 prefix_ + "x/y/z/w.v-1_2"}) {
    auto bytes = pattern(64, static_cast<uint32_t>(key.size()));
    ASSERT_TRUE(store_->put(key, bytes)) << key;
    auto got = store_->get(key);
    ASSERT_TRUE(got && got->has_value()) << key;
    EXPECT_EQ(**got, bytes) << key;
  }
  EXPECT_EQ(componentKey(hash), "sha256/aa/" + hash);
  EXPECT_EQ(artifactKey(hash, "fp"), "artifacts/fp/" + hash + ".cwasm");
}

// The garbage collector's listing: every object under a folder (across
// pages on S3: more than a ListObjectsV2 page would hold is not needed to
// show paging, object_store follows continuation tokens), with its size
// and a modification time close to now; nothing outside the folder.
TEST_P(CodeStoreTest, ListsAFolderWithSizesAndTimes) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  std::map<std::string, uint64_t> put;
  for (int i = 0; i < 5; i++) {
    const std::string key = prefix_ + "list/" + (i % 2 ? "a/" : "b/c/") + std::to_string(i);
    ASSERT_TRUE(store_->put(key, pattern(10 + i, i)));
    put[key] = 10 + i;
  }
  ASSERT_TRUE(store_->put(prefix_ + "listing-not", pattern(3, 3)));
  auto listed = store_->list(prefix_ + "list");
  ASSERT_TRUE(listed) << listed.error().message;
  std::map<std::string, uint64_t> got;
  for (const auto& o : *listed) {
    got[o.key] = o.size;
    EXPECT_NEAR(static_cast<double>(o.modifiedMs), static_cast<double>(now), 120'000.0) << o.key;
  }
  EXPECT_EQ(got, put);
  auto none = store_->list(prefix_ + "nothing-here");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

TEST_P(CodeStoreTest, InvalidKeysAreRefused) {
  for (const std::string key : {"", "/abs", "a//b", "../up", "a/../b", "a/./b", "trailing/", "sp ace", "q?x"}) {
    auto put = store_->put(key, pattern(4, 7));
    ASSERT_FALSE(put) << "'" << key << "' was accepted";
    EXPECT_NE(put.error().message.find("invalid object key"), std::string::npos) << put.error().message;
    EXPECT_FALSE(store_->get(key)) << key;
    EXPECT_FALSE(store_->exists(key)) << key;
  }
}

// Several writers of one key at once, and a reader meanwhile: the reader
// sees nothing or the whole object, never part of it.
TEST_P(CodeStoreTest, ConcurrentWritersOfOneKey) {
  const auto bytes = pattern(4 << 20, 8);
  const std::string key = prefix_ + "race";
  std::atomic<bool> done{false};
  std::atomic<int> partial{0}, errors{0};
  std::thread reader([&] {
    while (!done) {
      auto got = store_->get(key);
      if (!got) errors++;
      else if (got->has_value() && **got != bytes) partial++;
    }
  });
  std::vector<std::thread> writers;
  for (int i = 0; i < 6; i++) {
    writers.emplace_back([&] {
      if (!store_->put(key, bytes)) errors++;
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  EXPECT_EQ(partial, 0) << "a reader saw a partial object";
  EXPECT_EQ(errors, 0);
  auto got = store_->get(key);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE(**got == bytes);
}

INSTANTIATE_TEST_SUITE_P(Stores, CodeStoreTest, ::testing::Values("directory", "s3"),
                         [](const auto& info) { return info.param; });

// ---- the directory store only ------------------------------------------------

// Child mode for the multi-process test: FN0_STORE_TEST_CHILD=<dir>|<prefix>
// writes the keys every child writes, then exits.
constexpr int kChildKeys = 20;
std::vector<uint8_t> childBytes(int i) { return pattern(256 * 1024 + static_cast<size_t>(i) * 1000, 100 + i); }

[[maybe_unused]] const bool kRanAsChild = [] {
  const char* spec = std::getenv("FN0_STORE_TEST_CHILD");
  if (!spec) return false;
  std::string s = spec;
  auto bar = s.find('|');
  auto store = openDirectoryStore(s.substr(0, bar));
  int failures = 0;
  for (int i = 0; i < kChildKeys; i++)
    if (!store->put(s.substr(bar + 1) + std::to_string(i), childBytes(i))) failures++;
  std::_Exit(failures == 0 ? 0 : 1);
}();

TEST(DirectoryStore, ConcurrentProcessesWritingTheSameKeys) {
  auto dir = makeTempDir();
  const std::string prefix = "procs/";
  const std::string spec = "FN0_STORE_TEST_CHILD=" + dir.string() + "|" + prefix;
  std::vector<char*> env;
  for (char** e = environ; *e; e++) env.push_back(*e);
  env.push_back(const_cast<char*>(spec.c_str()));
  env.push_back(nullptr);
  char self[] = "/proc/self/exe";
  char* argv[] = {self, nullptr};
  std::vector<pid_t> children;
  for (int c = 0; c < 4; c++) {
    pid_t pid = 0;
    ASSERT_EQ(::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, env.data()), 0);
    children.push_back(pid);
  }
  auto store = openDirectoryStore(dir);
  int partial = 0;
  for (int round = 0; round < 200; round++) {  // read while they write
    int i = round % kChildKeys;
    auto got = store->get(prefix + std::to_string(i));
    ASSERT_TRUE(got) << got.error().message;
    if (got->has_value() && **got != childBytes(i)) partial++;
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer process failed";
  }
  EXPECT_EQ(partial, 0) << "a reader saw a partial object";
  for (int i = 0; i < kChildKeys; i++) {
    auto got = store->get(prefix + std::to_string(i));
    ASSERT_TRUE(got && got->has_value());
    EXPECT_TRUE(**got == childBytes(i)) << i;
  }
  size_t files = 0;
  for (auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files++;
      EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos)
          << "temporary file left behind: " << entry.path();
    }
  }
  EXPECT_EQ(files, static_cast<size_t>(kChildKeys));
  fs::remove_all(dir);
}

TEST(DirectoryStore, CheckNamesAPathThatIsNotADirectory) {
  auto dir = makeTempDir();
  const auto file = dir / "plain-file";
  { std::FILE* f = std::fopen(file.c_str(), "w"); std::fclose(f); }
  auto store = openDirectoryStore(file);
  auto r = store->check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kStoreNoBucket);
  EXPECT_NE(r.error().message.find(file.string()), std::string::npos) << r.error().message;
  fs::remove_all(dir);
}

// ---- the S3 store only --------------------------------------------------------

std::string s3Endpoint() {
  const char* e = std::getenv("FN0_TEST_S3_ENDPOINT");
  return e ? e : "";
}
std::string s3Bucket() {
  const char* b = std::getenv("FN0_TEST_S3_BUCKET");
  return b ? b : "";
}

// The error check() gives (or opening does); shown in the test's output so
// the messages a user would read can be reviewed.
Error s3CheckError(const std::string& url) {
  auto opened = openCodeStore(url);
  Error e = opened.ok() ? Error{"check() unexpectedly succeeded"} : opened.error();
  if (opened.ok())
    if (auto r = (*opened)->check(); !r) e = r.error();
  std::printf("[          ] %s: %s\n", e.code.c_str(), e.message.c_str());
  return e;
}

TEST(S3Store, WrongSecretIsDenied) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "not-the-secret");
  auto e = s3CheckError(s3Url());
  EXPECT_EQ(e.code, kStoreDenied) << e.message;
  EXPECT_NE(e.message.find("rejected the credentials (SignatureDoesNotMatch)"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(s3Bucket()), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("not-the-secret"), std::string::npos) << "a secret in a message: " << e.message;
}

TEST(S3Store, UnknownAccessKeyIsDenied) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  ScopedEnv key("AWS_ACCESS_KEY_ID", "NOSUCHKEY");
  auto e = s3CheckError(s3Url());
  EXPECT_EQ(e.code, kStoreDenied) << e.message;
  EXPECT_NE(e.message.find("rejected the credentials"), std::string::npos) << e.message;
}

TEST(S3Store, MissingCredentialsAreNamed) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  ScopedEnv key("AWS_ACCESS_KEY_ID", nullptr);
  auto e = s3CheckError(s3Url());
  EXPECT_EQ(e.code, kStoreDenied) << e.message;
  EXPECT_NE(e.message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << e.message;
}

TEST(S3Store, MissingBucketIsNamed) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  const std::string bucket = "fn0-no-such-bucket-" + randomTag().substr(0, 8);
  auto e = s3CheckError("s3://" + bucket + "?endpoint=" + s3Endpoint());
  EXPECT_EQ(e.code, kStoreNoBucket) << e.message;
  EXPECT_NE(e.message.find("bucket '" + bucket + "' does not exist at " + s3Endpoint()), std::string::npos)
      << e.message;
}

TEST(S3Store, ServerNotRunningIsUnavailableQuickly) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  // A loopback port nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  const auto start = std::chrono::steady_clock::now();
  auto e = s3CheckError("s3://" + s3Bucket() + "?endpoint=" + endpoint);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(e.code, kStoreUnavailable) << e.message;
  EXPECT_NE(e.message.find("cannot reach the S3 server at " + endpoint + ": connection refused"), std::string::npos)
      << e.message;
  EXPECT_LT(seconds, 5.0) << "a server that is not running must be reported within seconds";
  RecordProperty("unavailable_seconds", std::to_string(seconds));
  std::printf("[          ] server not running: reported in %.2f s\n", seconds);
}

TEST(S3Store, ObjectsLandInTheBucket) {
  ASSERT_NE(s3Url(), nullptr) << kNeedServer;
  auto a = openCodeStore(s3Url());
  ASSERT_TRUE(a) << a.error().message;
  auto b = openCodeStore(s3Url());  // a second node on the same bucket
  ASSERT_TRUE(b) << b.error().message;
  const std::string key = "test/" + randomTag() + "/shared";
  ASSERT_TRUE((*a)->put(key, pattern(100, 9)));
  auto got = (*b)->get(key);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, pattern(100, 9));
  EXPECT_NE((*a)->describe().find("s3://" + s3Bucket()), std::string::npos) << (*a)->describe();
}

// ---- URLs ---------------------------------------------------------------------

TEST(CodeStoreUrl, BadUrlsAreExplained) {
  struct Case {
    std::string url, says;
  };
  for (const auto& c : std::vector<Case>{
           {"", "unknown scheme"},
           {"/srv/fn0", "write file:///srv/fn0"},
           {"file://srv/fn0", "absolute path"},
           {"file:///srv/fn0?x=1", "takes no query"},
           {"http://127.0.0.1:9000/bucket", "unknown scheme"},
           {"s3://", "no bucket name"},
           {"s3://Bad_Bucket", "not a valid bucket name"},
           {"s3://ab", "not a valid bucket name"},
           {"s3://bucket/prefix", "key prefix"},
           {"s3://bucket?region=eu-west-1", "unknown parameter 'region=eu-west-1'"},
           {"s3://bucket?endpoint=127.0.0.1:9000", "is not http://HOST[:PORT]"},
           {"s3://bucket?endpoint=http://", "is not http://HOST[:PORT]"},
           {"s3://bucket?endpoint=http://h:1/path", "is not http://HOST[:PORT]"},
       }) {
    auto r = openCodeStore(c.url);
    ASSERT_FALSE(r) << "'" << c.url << "' was accepted";
    const auto& m = r.error().message;
    EXPECT_NE(m.find("'" + c.url + "'"), std::string::npos) << m;
    EXPECT_NE(m.find(c.says), std::string::npos) << m;
    EXPECT_NE(m.find("expected file:///absolute/path or s3://BUCKET"), std::string::npos) << m;
  }
}

TEST(CodeStoreUrl, FileUrlOpensADirectoryStore) {
  auto dir = makeTempDir() / "sub";
  auto r = openCodeStore("file://" + dir.string());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->describe(), "file://" + dir.string());
  auto c = (*r)->check();
  EXPECT_TRUE(c) << c.error().message;
  EXPECT_TRUE(fs::is_directory(dir));
  fs::remove_all(dir.parent_path());
}

TEST(CodeStoreUrl, S3UrlWithEndpointDescribesItself) {
  ScopedEnv key("AWS_ACCESS_KEY_ID", "k");
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "s");
  auto r = openCodeStore("s3://my-bucket?endpoint=http://127.0.0.1:1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->describe(), "s3://my-bucket (http://127.0.0.1:1)");
}

}  // namespace
}  // namespace fn0::store
