#include "registry/registry.h"

#include "registry/sql.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

namespace fn0::registry {
namespace {

// The conformance suite: every TEST_P runs on each backend. PostgreSQL's
// server comes from tests/servers/with_servers.py (FN0_TEST_POSTGRES_URL);
// each test gets a schema of its own on it.
std::string postgresUrl() {
  const char* u = std::getenv("FN0_TEST_POSTGRES_URL");
  return u ? u : "";
}

// A schema of its own on the test server, as a URL the registry opens.
std::string freshPostgresUrl() {
  static int n = 0;
  const std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  auto admin = openPostgres(postgresUrl());
  admin->script("CREATE SCHEMA " + schema);
  return postgresUrl() + "?options=-csearch_path%3D" + schema;
}

class Reg : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static int n = 0;
    const std::string name = "fn0-registry-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (GetParam() == "postgres") {
      ASSERT_FALSE(postgresUrl().empty())
          << "FN0_TEST_POSTGRES_URL is not set: run this through tests/servers/with_servers.py --postgres";
      url_ = freshPostgresUrl();
    }
    reg_ = open();
    ASSERT_TRUE(reg_);
  }
  void TearDown() override {
    reg_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Registry> open() {
    auto r = Registry::open(url_, dir_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  std::filesystem::path dir_;
  std::string url_;  // "" = SQLite in dir_
  std::unique_ptr<Registry> reg_;
};

INSTANTIATE_TEST_SUITE_P(Backends, Reg, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

const std::string kA(64, 'a'), kB(64, 'b');

TEST(Names, FunctionNamesAreDnsLabels) {
  EXPECT_TRUE(isDnsLabel("hello"));
  EXPECT_TRUE(isDnsLabel("my-api-2"));
  EXPECT_FALSE(isDnsLabel(""));
  EXPECT_FALSE(isDnsLabel("Hello"));
  EXPECT_FALSE(isDnsLabel("-x"));
  EXPECT_FALSE(isDnsLabel("x-"));
  EXPECT_FALSE(isDnsLabel("a_b"));
  EXPECT_FALSE(isDnsLabel(std::string(64, 'a')));
  EXPECT_TRUE(isValidAliasName("staging"));
  EXPECT_FALSE(isValidAliasName("v12"));
}

TEST_P(Reg, VersionsAreNumberedAndIdempotentPerContent) {
  auto a = reg_->addVersion("hello", kA, 10, true);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->version.number, 1);
  EXPECT_TRUE(a->created);
  auto b = reg_->addVersion("hello", kB, 20, true);
  EXPECT_EQ(b->version.number, 2);
  auto again = reg_->addVersion("hello", kA, 10, true);
  EXPECT_EQ(again->version.number, 1);
  EXPECT_FALSE(again->created);
  auto f = reg_->function("hello");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->versions.size(), 2u);
  EXPECT_EQ((*f)->aliases.at("live"), 1);  // re-deploying v1's bytes made v1 live again
}

TEST_P(Reg, NoLiveMoveWhenAskedNotTo) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->addVersion("hello", kB, 1, false).ok());
  EXPECT_EQ(reg_->catalog()->functions.at("hello").aliases.at("live"), 1);
}

TEST_P(Reg, AliasesPointAtExistingVersions) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  EXPECT_TRUE(reg_->setAlias("hello", "staging", 1).ok());
  EXPECT_FALSE(reg_->setAlias("hello", "staging", 9).ok());
  EXPECT_FALSE(reg_->setAlias("hello", "v2", 1).ok());
  EXPECT_FALSE(reg_->setAlias("nope", "live", 1).ok());
  EXPECT_EQ(reg_->catalog()->functions.at("hello").aliases.at("staging"), 1);
  EXPECT_TRUE(*reg_->deleteAlias("hello", "staging"));
  EXPECT_FALSE(*reg_->deleteAlias("hello", "staging"));
}

TEST_P(Reg, EnvAndSecretsReachTheCatalogButSecretsNeverComeBack) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->setEnv("hello", "MODE", "prod").ok());
  ASSERT_TRUE(reg_->setSecret("hello", "TOKEN", "s3cret").ok());
  auto f = reg_->function("hello");
  EXPECT_EQ((*f)->env.at("MODE"), "prod");
  EXPECT_EQ((*f)->secretNames, std::vector<std::string>{"TOKEN"});
  auto env = reg_->catalog()->functions.at("hello").env;
  EXPECT_NE(std::find(env.begin(), env.end(), std::pair<std::string, std::string>("TOKEN", "s3cret")), env.end());
  EXPECT_TRUE(*reg_->unsetEnv("hello", "MODE"));
  EXPECT_TRUE(*reg_->deleteSecret("hello", "TOKEN"));
  EXPECT_TRUE(reg_->catalog()->functions.at("hello").env.empty());
}

TEST_P(Reg, DeleteRemovesEverythingOfTheFunction) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->setEnv("hello", "A", "1").ok());
  EXPECT_TRUE(*reg_->deleteFunction("hello"));
  EXPECT_FALSE(reg_->function("hello")->has_value());
  EXPECT_EQ(reg_->catalog()->functions.count("hello"), 0u);
  EXPECT_FALSE(*reg_->deleteFunction("hello"));
  auto again = reg_->addVersion("hello", kA, 1, true);  // a new function starts at v1
  EXPECT_EQ(again->version.number, 1);
}

TEST_P(Reg, EverythingSurvivesAReopen) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->addTokenHash(kB, "test").ok());
  reg_.reset();
  reg_ = open();
  EXPECT_EQ(reg_->catalog()->functions.at("hello").versionHashes.at(1), kA);
  EXPECT_TRUE(reg_->hasTokenHash(kB));
  EXPECT_FALSE(reg_->hasTokenHash(kA));
  EXPECT_EQ(*reg_->tokenCount(), 1);
}

TEST_P(Reg, SettingsRoundTripAndReachTheCatalog) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  auto st = FunctionSettings::fromJson(R"({"cpu_ms": 50, "allow": ["10.0.0.0/8"], "reuse_instance_requests": 4})");
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_TRUE(reg_->setSettings("hello", *st).ok());
  reg_.reset();
  reg_ = open();
  const auto& c = reg_->catalog()->functions.at("hello").settings;
  EXPECT_EQ(c.cpuMs, 50u);
  EXPECT_FALSE(c.durationMs.has_value());
  EXPECT_EQ(c.allow, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ((*reg_->function("hello"))->settings.reuseInstanceRequests, 4u);
  EXPECT_FALSE(FunctionSettings::fromJson(R"({"cpu_ms": "fast"})").ok());
  EXPECT_FALSE(FunctionSettings::fromJson(R"({"nope": 1})").ok());
  EXPECT_FALSE(reg_->setSettings("missing", *st).ok());
}

TEST(Settings, EveryNumberIsRangeChecked) {
  // Near 2^64, negative, fractional, too large for an integer, a string:
  // each refused with the allowed range in the message.
  for (const char* bad : {R"({"cpu_ms": 18446744073709551615})", R"({"cpu_ms": -1})", R"({"cpu_ms": 1.5})",
                          R"({"cpu_ms": 1e30})", R"({"cpu_ms": 18446744073709551616})", R"({"cpu_ms": "10"})",
                          R"({"cpu_ms": 0})", R"({"cpu_ms": 600001})", R"({"cpu_ms": true})"}) {
    auto st = FunctionSettings::fromJson(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message.find("cpu_ms must be an integer between 1 and 600000"), std::string::npos)
        << st.error().message;
  }
  for (const auto& r : settingRanges()) {
    const std::string name = r.name;
    EXPECT_TRUE(FunctionSettings::fromJson("{\"" + name + "\": " + std::to_string(r.min) + "}").ok()) << name;
    EXPECT_TRUE(FunctionSettings::fromJson("{\"" + name + "\": " + std::to_string(r.max) + "}").ok()) << name;
    EXPECT_TRUE(FunctionSettings::fromJson("{\"" + name + "\": null}").ok()) << name;
    auto over = FunctionSettings::fromJson("{\"" + name + "\": " + std::to_string(r.max + 1) + "}");
    ASSERT_FALSE(over.ok()) << name;
    EXPECT_NE(over.error().message.find(name + " must be an integer between"), std::string::npos);
    EXPECT_FALSE(FunctionSettings::fromJson("{\"" + name + "\": 18446744073709551615}").ok()) << name;
  }
  auto st = FunctionSettings::fromJson(R"({"max_concurrency": 3, "duration_ms": 3600000})");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->maxConcurrency, 3u);
  EXPECT_EQ(FunctionSettings::fromJson(st->toJson())->durationMs, 3600000u);
  EXPECT_FALSE(FunctionSettings::fromJson(R"({"allow": [")" + std::string(200, 'a') + R"("]})").ok());
  // Shared key-value buckets: a list of DNS labels, bounded.
  auto kv = FunctionSettings::fromJson(R"({"kv_buckets": ["team", "sessions-2"], "kv_max_bytes": 1024})");
  ASSERT_TRUE(kv.ok()) << kv.error().message;
  EXPECT_EQ(FunctionSettings::fromJson(kv->toJson())->kvBuckets, (std::vector<std::string>{"team", "sessions-2"}));
  EXPECT_EQ(kv->kvMaxBytes, 1024u);
  for (const char* bad : {R"({"kv_buckets": "team"})", R"({"kv_buckets": ["Team"]})", R"({"kv_buckets": ["a/b"]})",
                          R"({"kv_buckets": [""]})", R"({"kv_buckets": [1]})"})
    EXPECT_FALSE(FunctionSettings::fromJson(bad).ok()) << bad;
  std::string many = R"({"kv_buckets": [)";
  for (size_t i = 0; i <= kMaxKvBuckets; i++) many += (i ? ",\"b" : "\"b") + std::to_string(i) + "\"";
  EXPECT_FALSE(FunctionSettings::fromJson(many + "]}").ok());
  // Deeply nested input is refused without recursing (the parser is iterative).
  EXPECT_FALSE(FunctionSettings::fromJson(std::string(1 << 20, '[')).ok());
  EXPECT_FALSE(FunctionSettings::fromJson("{\"allow\": " + std::string(100000, '[') + std::string(100000, ']') + "}").ok());
}

TEST(Vars, NamesAreAPortableCharacterSetAndValuesAreUtf8) {
  for (std::string good : {std::string("A"), std::string("_x"), std::string("API_KEY_2"), std::string(kMaxVarNameBytes, 'a')})
    EXPECT_TRUE(checkVarName(good).ok()) << good;
  for (std::string bad : {std::string(), std::string("a=b"), std::string("a\0b", 3), std::string("\xff"),
                          std::string("2A"), std::string("A-B"), std::string("A B"), std::string("\xc3\xa9"),
                          std::string(kMaxVarNameBytes + 1, 'a')})
    EXPECT_FALSE(checkVarName(bad).ok()) << bad;
  EXPECT_TRUE(checkVarValue("any text, = and \xc3\xa9 too").ok());
  EXPECT_TRUE(checkVarValue("").ok());
  EXPECT_FALSE(checkVarValue(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(checkVarValue("\xff").ok());
  EXPECT_FALSE(checkVarValue("\xc3").ok());          // truncated
  EXPECT_FALSE(checkVarValue("\xc0\xaf").ok());      // overlong '/'
  EXPECT_FALSE(checkVarValue("\xed\xa0\x80").ok());  // a surrogate
  EXPECT_TRUE(checkVarValue("\xf0\x9f\x98\x80").ok());
  EXPECT_FALSE(checkVarValue(std::string(kMaxVarValueBytes + 1, 'v')).ok());
}

TEST_P(Reg, BadVarsNeverReachTheCatalog) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  EXPECT_FALSE(reg_->setEnv("hello", "\xff", "x").ok());
  EXPECT_FALSE(reg_->setSecret("hello", "a=b", "x").ok());
  EXPECT_FALSE(reg_->setEnv("hello", "OK", std::string("a\0b", 3)).ok());
  ASSERT_TRUE(reg_->setEnv("hello", "OK", "1").ok());
  EXPECT_EQ(reg_->catalog()->functions.at("hello").env.size(), 1u);
}

TEST_P(Reg, RejectsInvalidNames) {
  EXPECT_FALSE(reg_->addVersion("Bad_Name", kA, 1, true).ok());
}

TEST_P(Reg, EveryWriteBumpsTheGenerationAndFailedWritesChangeNothing) {
  const auto g0 = reg_->catalog()->generation;
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  const auto g1 = reg_->catalog()->generation;
  EXPECT_GT(g1, g0);
  EXPECT_FALSE(reg_->setAlias("hello", "staging", 7).ok());  // rolled back
  EXPECT_EQ(reg_->catalog()->generation, g1);
  EXPECT_EQ(reg_->catalog()->functions.at("hello").aliases.count("staging"), 0u);
  ASSERT_TRUE(reg_->setEnv("hello", "A", "1").ok());
  EXPECT_GT(reg_->catalog()->generation, g1);
}

TEST_P(Reg, SessionsLiveUntilTheyExpireOrAreDeletedAndLeaveTheCatalogAlone) {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  const auto g0 = reg_->catalog()->generation;
  ASSERT_TRUE(reg_->createSession({"h1", "csrf1", "admin", "configured", kB, t, t + 3600}).ok());
  ASSERT_TRUE(reg_->createSession({"h2", "csrf2", "viewer", "a@b", "", t - 100, t - 1}).ok());
  EXPECT_EQ(reg_->catalog()->generation, g0);  // no reload for a login
  auto s = reg_->session("h1");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->csrf, "csrf1");
  EXPECT_EQ((*s)->role, "admin");
  EXPECT_EQ((*s)->tokenHash, kB);
  EXPECT_EQ((*s)->expiresAt, t + 3600);
  EXPECT_FALSE(reg_->session("h2")->has_value());       // expired
  EXPECT_FALSE(reg_->session("nothing")->has_value());
  EXPECT_EQ(*reg_->purgeSessions(), 1);
  EXPECT_TRUE(*reg_->deleteSession("h1"));
  EXPECT_FALSE(*reg_->deleteSession("h1"));
  EXPECT_FALSE(reg_->session("h1")->has_value());
}

TEST_P(Reg, TokensHaveRolesScopesAndTheLastAdminCannotBeRevoked) {
  ASSERT_TRUE(reg_->addTokenHash(kA, "configured").ok());
  ASSERT_TRUE(reg_->addTokenHash(kA, "configured again").ok());  // present: nothing changes
  TokenInfo ci;
  ci.name = "ci";
  ci.role = "deployer";
  ci.functions = {"hello", "api-*"};
  ci.createdBy = "configured";
  auto made = reg_->addToken(kB, ci);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->id, kB.substr(0, 12));
  auto t = reg_->token(kB);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->role, "deployer");
  EXPECT_TRUE(t->covers("hello"));
  EXPECT_TRUE(t->covers("api-users"));
  EXPECT_FALSE(t->covers("api"));
  EXPECT_FALSE(t->covers("other"));
  EXPECT_TRUE(reg_->token(kA)->covers("anything"));
  ci.role = "root";
  EXPECT_FALSE(reg_->addToken(std::string(64, 'c'), ci).ok());
  ci.role = "viewer";
  ci.functions = {"Bad_Name"};
  EXPECT_FALSE(reg_->addToken(std::string(64, 'c'), ci).ok());
  auto all = reg_->tokens();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "configured");
  EXPECT_EQ((*all)[0].lastUsedAt, 0);
  reg_->touchToken(kA);
  EXPECT_GT((*reg_->tokens())[0].lastUsedAt, 0);
  EXPECT_FALSE(reg_->revokeToken(kA.substr(0, 12)).ok());  // the last admin token
  const int64_t t0 = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(reg_->createSession({"s1", "c", "deployer", "ci", kB, t0, t0 + 60}).ok());
  EXPECT_TRUE(*reg_->revokeToken(kB.substr(0, 12)));
  EXPECT_FALSE(reg_->hasTokenHash(kB));
  EXPECT_FALSE(reg_->session("s1")->has_value());  // its sessions went with it
  EXPECT_FALSE(*reg_->revokeToken("nothing"));
}

TEST_P(Reg, AuditEntriesAreKeptNewestFirstAndFiltered) {
  for (int i = 0; i < 5; i++) {
    AuditEntry e;
    e.atMs = 1000 + i;
    e.actor = i % 2 ? "ci" : "alice@example.com";
    e.via = "token";
    e.role = "admin";
    e.action = i == 4 ? "function.delete" : "deploy";
    e.function = i < 3 ? "hello" : "other";
    e.detail = R"({"version":"v)" + std::to_string(i) + R"("})";
    e.client = "127.0.0.1";
    e.requestId = "r" + std::to_string(i);
    e.status = 201;
    ASSERT_TRUE(reg_->addAudit(e).ok());
  }
  auto all = reg_->audit({});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].requestId, "r4");
  EXPECT_GT((*all)[0].id, (*all)[1].id);
  AuditQuery byFn;
  byFn.function = "hello";
  EXPECT_EQ(reg_->audit(byFn)->size(), 3u);
  AuditQuery byActor;
  byActor.actor = "ci";
  EXPECT_EQ(reg_->audit(byActor)->size(), 2u);
  AuditQuery page;
  page.limit = 2;
  auto first = *reg_->audit(page);
  page.beforeId = first.back().id;
  auto second = *reg_->audit(page);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].requestId, "r2");
  EXPECT_EQ(*reg_->purgeAudit(1), 5);  // 1970: older than a day
}

TEST_P(Reg, AReopenMigratesNothingTwice) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  for (int i = 0; i < 3; i++) {
    reg_.reset();
    reg_ = open();
    ASSERT_TRUE(reg_);
  }
  EXPECT_EQ(reg_->catalog()->functions.at("hello").aliases.at("live"), 1);
}

TEST_P(Reg, ConcurrentDeploysGetDistinctVersions) {
  // Two registries on one database (two nodes, for PostgreSQL; two
  // connections to one file for SQLite), deploying at once.
  auto other = open();
  ASSERT_TRUE(other);
  std::vector<int64_t> numbers[2];
  auto deploy = [&](Registry& r, int who) {
    for (int i = 0; i < 20; i++) {
      std::string hash(64, "0123456789abcdef"[i % 16]);
      hash[0] = who ? 'a' : 'b';
      hash[1] = "0123456789abcdef"[i / 16];
      auto a = r.addVersion("race", hash, 1, true);
      ASSERT_TRUE(a.ok()) << a.error().message;
      numbers[who].push_back(a->version.number);
    }
  };
  std::thread t([&] { deploy(*other, 1); });
  deploy(*reg_, 0);
  t.join();
  std::set<int64_t> all(numbers[0].begin(), numbers[0].end());
  all.insert(numbers[1].begin(), numbers[1].end());
  EXPECT_EQ(all.size(), 40u);
  EXPECT_EQ(*all.rbegin(), 40);
  auto f = reg_->function("race");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->versions.size(), 40u);
}

// PostgreSQL only: a change made through one node reaches the other's
// catalog (LISTEN/NOTIFY) without any call on it.
TEST(Postgres, AChangeThroughOneNodeReachesTheOther) {
  ASSERT_FALSE(postgresUrl().empty()) << "run through tests/servers/with_servers.py --postgres";
  const auto url = freshPostgresUrl();
  auto opened = Registry::open(url, "/tmp"), opened2 = Registry::open(url, "/tmp");
  ASSERT_TRUE(opened.ok() && opened2.ok());
  auto& reg_ = *opened;
  auto& other = *opened2;
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->addVersion("hello", kB, 1, false).ok());
  auto waitFor = [&](auto pred) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred(*other->catalog())) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  EXPECT_TRUE(waitFor([](const Catalog& c) { return c.functions.count("hello") && c.functions.at("hello").aliases.count("live"); }));
  ASSERT_TRUE(reg_->setAlias("hello", "live", 2).ok());
  EXPECT_TRUE(waitFor([](const Catalog& c) { return c.functions.at("hello").aliases.at("live") == 2; }));
  ASSERT_TRUE(reg_->setSecret("hello", "K", "v").ok());
  EXPECT_TRUE(waitFor([](const Catalog& c) { return !c.functions.at("hello").env.empty(); }));
  ASSERT_TRUE(reg_->addTokenHash(kB, "other").ok());
  EXPECT_TRUE(waitFor([&](const Catalog& c) { return c.tokens.count(kB) > 0; }));
  ASSERT_TRUE(reg_->deleteFunction("hello").ok());
  EXPECT_TRUE(waitFor([](const Catalog& c) { return c.functions.count("hello") == 0; }));
  EXPECT_TRUE(other->watchStats().connected);
}

TEST(Open, BadRegistryUrlsNameTheProblem) {
  auto bad = Registry::open("mysql://x", "/tmp");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--registry must be postgres://"), std::string::npos) << bad.error().message;
  // Nothing listens on port 1.
  auto away = Registry::open("postgres://fn0@127.0.0.1:1/fn0", "/tmp");
  ASSERT_FALSE(away.ok());
  EXPECT_NE(away.error().message.find("cannot connect to the registry at postgres://fn0@127.0.0.1:1/fn0"),
            std::string::npos)
      << away.error().message;
  EXPECT_EQ(away.error().code, kRegistryUnavailable);
  auto pw = Registry::open("postgres://fn0:hunter2@127.0.0.1:1/fn0", "/tmp");
  ASSERT_FALSE(pw.ok());
  EXPECT_EQ(pw.error().message.find("hunter2"), std::string::npos) << "the password leaked: " << pw.error().message;
}

TEST(Open, AnUnknownDatabaseIsNamed) {
  if (postgresUrl().empty()) GTEST_FAIL() << "run through tests/servers/with_servers.py --postgres";
  auto url = postgresUrl();
  url = url.substr(0, url.rfind('/')) + "/no_such_db";
  auto r = Registry::open(url, "/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no_such_db"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fn0::registry
