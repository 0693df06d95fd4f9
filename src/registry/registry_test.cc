#include "registry/registry.h"

#include "registry/secret_keys.h"
#include "registry/sql.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
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
    keys_ = std::make_shared<SecretKeys>(dir_ / "secrets.key");
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
    auto r = Registry::open(url_, dir_, keys_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // The database under the registry, for what a copy or a dump would show.
  std::unique_ptr<SqlConnection> raw() {
    return url_.empty() ? openSqlite((dir_ / "registry.db").string()) : openPostgres(url_);
  }
  std::filesystem::path dir_;
  std::string url_;  // "" = SQLite in dir_
  std::shared_ptr<SecretKeys> keys_ = nullptr;
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
  auto b = reg_->addVersion("hello", kB, 20, true, "ci");
  EXPECT_EQ(b->version.number, 2);
  auto again = reg_->addVersion("hello", kA, 10, true, "someone else");
  EXPECT_EQ(again->version.number, 1);
  EXPECT_FALSE(again->created);
  auto f = reg_->function("hello");
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->versions.size(), 2u);
  EXPECT_EQ((*f)->versions[0].createdBy, "");  // the first deploy of its bytes named nobody
  EXPECT_EQ((*f)->versions[1].createdBy, "ci");
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
    // instance_concurrency is checked against reuse too (below).
    const std::string also = name == "instance_concurrency" ? R"("reuse_instance_requests": 2, )" : "";
    EXPECT_TRUE(FunctionSettings::fromJson("{" + also + "\"" + name + "\": " + std::to_string(r.min) + "}").ok()) << name;
    EXPECT_TRUE(FunctionSettings::fromJson("{" + also + "\"" + name + "\": " + std::to_string(r.max) + "}").ok()) << name;
    EXPECT_TRUE(FunctionSettings::fromJson("{\"" + name + "\": null}").ok()) << name;
    auto over = FunctionSettings::fromJson("{\"" + name + "\": " + std::to_string(r.max + 1) + "}");
    ASSERT_FALSE(over.ok()) << name;
    EXPECT_NE(over.error().message.find(name + " must be an integer between"), std::string::npos);
    EXPECT_FALSE(FunctionSettings::fromJson("{\"" + name + "\": 18446744073709551615}").ok()) << name;
  }
  // Requests at once on one instance need an instance that lives on.
  for (const char* needsReuse : {R"({"instance_concurrency": 2})",
                                 R"({"instance_concurrency": 2, "reuse_instance_requests": 1})"}) {
    auto shared = FunctionSettings::fromJson(needsReuse);
    ASSERT_FALSE(shared.ok()) << needsReuse;
    EXPECT_NE(shared.error().message.find("needs reuse_instance_requests of 2 or more"), std::string::npos);
  }
  EXPECT_TRUE(FunctionSettings::fromJson(R"({"instance_concurrency": 1})").ok());
  EXPECT_TRUE(FunctionSettings::fromJson(R"({"instance_concurrency": 16, "reuse_instance_requests": 128})").ok());
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

TEST_P(Reg, AnOidcLoginIsTakenOnceAndExpires) {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  const auto g0 = reg_->catalog()->generation;
  Registry::OidcLogin code{"s1", "code", "nonce1", "verifier1", "bind1", "", 5, t, t + 600};
  ASSERT_TRUE(reg_->addOidcLogin(code).ok());
  ASSERT_TRUE(reg_->addOidcLogin({"s2", "code", "n", "v", "b", "", 5, t - 700, t - 100}).ok());
  ASSERT_TRUE(reg_->addOidcLogin({"d1", "device", "", "", "", "devcode", 5, t, t + 600}).ok());
  EXPECT_EQ(reg_->catalog()->generation, g0);  // no reload for a login
  EXPECT_FALSE(reg_->oidcLogin("s2")->has_value());  // expired
  EXPECT_FALSE(reg_->takeOidcLogin("s2")->has_value());
  // Read without taking (the device poll), with its interval changed.
  ASSERT_TRUE(reg_->setOidcPollInterval("d1", 10).ok());
  auto d = reg_->oidcLogin("d1");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->deviceCode, "devcode");
  EXPECT_EQ((*d)->pollInterval, 10);
  EXPECT_TRUE(reg_->oidcLogin("d1")->has_value());
  // Taken once: a replay finds nothing.
  auto taken = reg_->takeOidcLogin("s1");
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->kind, "code");
  EXPECT_EQ((*taken)->nonce, "nonce1");
  EXPECT_EQ((*taken)->verifier, "verifier1");
  EXPECT_EQ((*taken)->bindingHash, "bind1");
  EXPECT_EQ((*taken)->expiresAt, t + 600);
  EXPECT_FALSE(reg_->takeOidcLogin("s1")->has_value());
  EXPECT_FALSE(reg_->oidcLogin("s1")->has_value());
  // A session keeps its person.
  Registry::Session s{"h1", "", "viewer", "a@b.c", "", t, t + 60};
  s.person = R"({"sub":"x","email":"a@b.c"})";
  ASSERT_TRUE(reg_->createSession(s).ok());
  EXPECT_EQ((*reg_->session("h1"))->person, s.person);
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

// ---- secrets at rest (secrets_at_rest.cc) ----------------------------------

const std::string kClear = "correct-horse-battery-staple-42";

// Everything a copy of the database would hand over: the SQLite files'
// bytes, or every cell of the tables that hold variables and secrets.
std::string databaseBytes(const std::filesystem::path& dir, SqlConnection& db, const std::string& url) {
  std::string all;
  if (url.empty()) {
    for (const char* f : {"registry.db", "registry.db-wal"}) {
      std::ifstream in(dir / f, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }
  for (const char* table : {"secrets", "env", "registry_state"})
    for (const auto& row : db.query(std::string("SELECT * FROM ") + table))
      for (const auto& cell : row.cells) all += cell.value_or("") + "\n";
  return all;
}

bool catalogHas(const Registry& r, const std::string& function, const std::string& name, const std::string& value) {
  const auto c = r.catalog();
  auto f = c->functions.find(function);
  if (f == c->functions.end()) return false;
  const auto& env = f->second.env;
  return std::find(env.begin(), env.end(), std::pair<std::string, std::string>(name, value)) != env.end();
}

// What an fn0 from before secrets at rest left: schema 8 (the migration before
// theirs), values in clear.
void makeOlder(SqlConnection& db, const std::vector<std::array<std::string, 3>>& clear) {
  SqlTransaction tx(db, SqlConnection::Tx::Write);
  // Schema 8: before secrets' key ids (9), versions' deployers (10) and
  // OIDC logins (11).
  db.script("ALTER TABLE secrets DROP COLUMN key_id; ALTER TABLE registry_state DROP COLUMN secrets_key_id;"
            " ALTER TABLE versions DROP COLUMN created_by; DROP TABLE oidc_logins;"
            " ALTER TABLE sessions DROP COLUMN person;");
  for (const auto& [function, name, value] : clear)
    db.exec("INSERT INTO secrets(function, name, value) VALUES ($1, $2, $3)", {function, name, value});
  db.setSchemaVersion(8);
  tx.commit();
}

TEST_P(Reg, SecretsAreSealedAtRestAndOpenInTheCatalog) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->setSecret("hello", "TOKEN", kClear).ok());
  ASSERT_TRUE(reg_->setEnv("hello", "MODE", "visible-env-value").ok());
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", kClear));
  auto db = raw();
  auto rows = db->query("SELECT value, key_id FROM secrets WHERE function = 'hello' AND name = 'TOKEN'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text(0).find(kClear), std::string::npos);
  EXPECT_EQ(rows[0].text(1), keys_->ids().at(0));
  const auto bytes = databaseBytes(dir_, *db, url_);
  EXPECT_EQ(bytes.find(kClear), std::string::npos) << "a secret is in the database in clear";
  EXPECT_NE(bytes.find("visible-env-value"), std::string::npos) << "the check would not see a value in clear";
  // A key file was made for this registry, for its owner only.
  struct stat st {};
  ASSERT_EQ(::stat(keys_->file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A restart opens it again; a new value replaces the old one.
  reg_.reset();
  reg_ = open();
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", kClear));
  ASSERT_TRUE(reg_->setSecret("hello", "TOKEN", "second").ok());
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", "second"));
  EXPECT_FALSE(catalogHas(*reg_, "hello", "TOKEN", kClear));
  auto status = reg_->secretsStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->keyId, keys_->ids().at(0));
  EXPECT_EQ(status->valuesByKey, (std::map<std::string, int64_t>{{keys_->ids().at(0), 1}}));
  EXPECT_EQ(status->clear, 0);
}

TEST_P(Reg, ANodeWithoutTheKeysIsRefusedNamingTheMissingKey) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->setSecret("hello", "TOKEN", kClear).ok());
  const std::string id = keys_->ids().at(0);
  reg_.reset();
  // Another node's own key: refused, with the key it lacks.
  const auto elsewhere = dir_ / "elsewhere";
  std::filesystem::create_directories(elsewhere);
  auto otherKeys = std::make_shared<SecretKeys>(elsewhere / "secrets.key");
  ASSERT_TRUE(otherKeys->generate().ok());
  auto wrong = Registry::open(url_, url_.empty() ? dir_ : elsewhere, otherKeys);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("does not hold key " + id + " (it seals 1 secret)"), std::string::npos)
      << wrong.error().message;
  // No key file at all: refused too, and none is made up.
  auto none = std::make_shared<SecretKeys>(elsewhere / "missing.key");
  auto keyless = Registry::open(url_, url_.empty() ? dir_ : elsewhere, none);
  ASSERT_FALSE(keyless.ok());
  EXPECT_NE(keyless.error().message.find("sealed with key " + id + ", and there is no secrets key file at " +
                                         none->file().string()),
            std::string::npos)
      << keyless.error().message;
  EXPECT_FALSE(none->fileExists());
  // A key file others may read: refused before anything else.
  std::filesystem::permissions(keys_->file(), static_cast<std::filesystem::perms>(0644));
  auto open = Registry::open(url_, dir_, keys_);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
  std::filesystem::permissions(keys_->file(), static_cast<std::filesystem::perms>(0600));
  reg_ = this->open();
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", kClear));
}

TEST_P(Reg, TheFirstNodesKeyIsTheRegistrysEvenWithoutSecrets) {
  // A second node with a key of its own would seal values the first
  // cannot open: it is refused at start, not at its first secret.
  const std::string id = keys_->ids().at(0);
  const auto elsewhere = dir_ / "elsewhere";
  std::filesystem::create_directories(elsewhere);
  auto otherKeys = std::make_shared<SecretKeys>(elsewhere / "secrets.key");
  ASSERT_TRUE(otherKeys->generate().ok());
  auto second = Registry::open(url_, url_.empty() ? dir_ : elsewhere, otherKeys);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(id + " (new secrets are sealed with it)"), std::string::npos)
      << second.error().message;
}

TEST_P(Reg, ValuesAnOlderFn0StoredInClearAreSealedOnOpen) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->addVersion("other", kB, 1, true).ok());
  reg_.reset();
  std::filesystem::remove(keys_->file());  // and no key file yet, as before the upgrade
  {
    auto db = raw();
    makeOlder(*db, {{"hello", "TOKEN", kClear}, {"hello", "B", kClear + "-b"}, {"other", "C", kClear + "-c"}});
    ASSERT_NE(databaseBytes(dir_, *db, url_).find(kClear), std::string::npos) << "the setup did not store it in clear";
  }
  reg_ = open();
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", kClear));
  EXPECT_TRUE(catalogHas(*reg_, "other", "C", kClear + "-c"));
  auto status = reg_->secretsStatus();
  EXPECT_EQ(status->clear, 0);
  EXPECT_EQ(status->valuesByKey.at(keys_->ids().at(0)), 3);
  auto db = raw();
  EXPECT_EQ(databaseBytes(dir_, *db, url_).find(kClear), std::string::npos) << "a value stayed in clear";
  reg_.reset();
  reg_ = open();  // and the next open has nothing left to do
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "B", kClear + "-b"));
}

TEST_P(Reg, ARowCopiedOntoAnotherFunctionDoesNotOpen) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE(reg_->addVersion("thief", kB, 1, true).ok());
  ASSERT_TRUE(reg_->setSecret("hello", "TOKEN", kClear).ok());
  ASSERT_TRUE(reg_->setSecret("thief", "TOKEN", "mine").ok());
  {
    auto db = raw();
    auto row = db->query("SELECT value FROM secrets WHERE function = 'hello' AND name = 'TOKEN'").at(0);
    db->exec("UPDATE secrets SET value = $1 WHERE function = 'thief' AND name = 'TOKEN'", {row.text(0)});
  }
  reg_.reset();
  reg_ = open();  // starts: the altered row is left out, the rest serves
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "TOKEN", kClear));
  EXPECT_FALSE(catalogHas(*reg_, "thief", "TOKEN", kClear));
  EXPECT_FALSE(catalogHas(*reg_, "thief", "TOKEN", "mine"));
  EXPECT_EQ(reg_->watchStats().secretsUnreadable, 1u);
  EXPECT_EQ((*reg_->function("thief"))->secretNames, std::vector<std::string>{"TOKEN"});  // listed, so it can be reset
  // Rotation refuses to seal it again, and changes nothing.
  SecretKeyring ring = *readSecretKeyFile(keys_->file());
  ring.keys.insert(ring.keys.begin(), generateSecretKey());
  ASSERT_TRUE(writeSecretKeyFile(keys_->file(), ring, true).ok());
  auto rotated = reg_->rotateSecrets(ring.keys[0].id);
  ASSERT_FALSE(rotated.ok());
  EXPECT_NE(rotated.error().message.find("secret TOKEN of function thief does not open"), std::string::npos)
      << rotated.error().message;
  EXPECT_EQ(reg_->secretsStatus()->keyId, ring.keys[1].id);
  ASSERT_TRUE(reg_->setSecret("thief", "TOKEN", "mine again").ok());
  EXPECT_TRUE(catalogHas(*reg_, "thief", "TOKEN", "mine again"));
  EXPECT_EQ(reg_->watchStats().secretsUnreadable, 0u);
}

TEST_P(Reg, RotationSealsEverySecretWithTheNewKey) {
  ASSERT_TRUE(reg_->addVersion("hello", kA, 1, true).ok());
  for (int i = 0; i < 5; i++) ASSERT_TRUE(reg_->setSecret("hello", "S" + std::to_string(i), kClear + std::to_string(i)).ok());
  const std::string old = keys_->ids().at(0);
  const SecretKeyring original = *readSecretKeyFile(keys_->file());
  SecretKeyring ring = original;
  ring.keys.insert(ring.keys.begin(), generateSecretKey());
  const std::string fresh = ring.keys[0].id;
  ASSERT_TRUE(writeSecretKeyFile(keys_->file(), ring, true).ok());
  const auto before = raw()->query("SELECT value FROM secrets ORDER BY name");
  // New values are sealed with the registry's key until the rotation.
  ASSERT_TRUE(reg_->setSecret("hello", "S0", kClear + "0").ok());
  EXPECT_EQ(reg_->secretsStatus()->valuesByKey.at(old), 5);
  auto n = reg_->rotateSecrets(fresh);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 5);
  auto status = reg_->secretsStatus();
  EXPECT_EQ(status->keyId, fresh);
  EXPECT_EQ(status->valuesByKey, (std::map<std::string, int64_t>{{fresh, 5}}));
  const auto after = raw()->query("SELECT value FROM secrets ORDER BY name");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); i++) EXPECT_NE(after[i].text(0), before[i].text(0));
  for (int i = 0; i < 5; i++) EXPECT_TRUE(catalogHas(*reg_, "hello", "S" + std::to_string(i), kClear + std::to_string(i)));
  EXPECT_EQ(*reg_->rotateSecrets(fresh), 0);  // again: nothing left to do
  // The old key can go: a node with only the new one opens everything...
  reg_.reset();
  ring.keys.pop_back();
  ASSERT_TRUE(writeSecretKeyFile(keys_->file(), ring, true).ok());
  reg_ = open();
  ASSERT_TRUE(reg_);
  EXPECT_TRUE(catalogHas(*reg_, "hello", "S4", kClear + "4"));
  EXPECT_TRUE(reg_->setSecret("hello", "S5", "x").ok());
  EXPECT_EQ(reg_->secretsStatus()->valuesByKey.at(fresh), 6);
  // ...and one with only the old key is refused, naming the new one.
  reg_.reset();
  auto oldKeys = std::make_shared<SecretKeys>(dir_ / "old.key");
  ASSERT_TRUE(writeSecretKeyFile(oldKeys->file(), original, false).ok());
  auto stale = Registry::open(url_, dir_, oldKeys);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("does not hold key " + fresh + " (it seals 6 secrets)"), std::string::npos)
      << stale.error().message;
}

// PostgreSQL only: a change made through one node reaches the other's
// catalog (LISTEN/NOTIFY) without any call on it.
TEST(Postgres, AChangeThroughOneNodeReachesTheOther) {
  ASSERT_FALSE(postgresUrl().empty()) << "run through tests/servers/with_servers.py --postgres";
  const auto url = freshPostgresUrl();
  const auto keyDir = std::filesystem::temp_directory_path() / ("fn0-registry-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(keyDir);
  auto keys = std::make_shared<SecretKeys>(keyDir / "secrets.key");  // one file: the same keys on both nodes
  auto opened = Registry::open(url, keyDir, keys), opened2 = Registry::open(url, keyDir, keys);
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
  std::filesystem::remove_all(keyDir);
}

// PostgreSQL only: a rotation made through one node reaches another one
// through its key file, without a restart; until the file arrives the
// other node keeps serving the values it had, and everything else still
// reaches it.
TEST(Postgres, ARotationReachesARunningNodeThroughItsKeyFile) {
  ASSERT_FALSE(postgresUrl().empty()) << "run through tests/servers/with_servers.py --postgres";
  const auto url = freshPostgresUrl();
  const auto dir = std::filesystem::temp_directory_path() / ("fn0-registry-rotation-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  auto keysA = std::make_shared<SecretKeys>(dir / "a" / "secrets.key");
  auto keysB = std::make_shared<SecretKeys>(dir / "b" / "secrets.key");
  auto a = Registry::open(url, dir / "a", keysA);
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto copyKeys = [&] {
    ASSERT_TRUE(writeSecretKeyFile(keysB->file(), *readSecretKeyFile(keysA->file()), true).ok());
  };
  copyKeys();
  auto b = Registry::open(url, dir / "b", keysB);
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto waitFor = [&](auto pred) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  ASSERT_TRUE((*a)->addVersion("hello", kA, 1, true).ok());
  ASSERT_TRUE((*a)->setSecret("hello", "K", kClear).ok());
  EXPECT_TRUE(waitFor([&] { return catalogHas(**b, "hello", "K", kClear); }));

  SecretKeyring ring = *readSecretKeyFile(keysA->file());
  ring.keys.insert(ring.keys.begin(), generateSecretKey());
  ASSERT_TRUE(writeSecretKeyFile(keysA->file(), ring, true).ok());
  ASSERT_EQ(*(*a)->rotateSecrets(ring.keys[0].id), 1);
  EXPECT_TRUE(waitFor([&] { return (*b)->watchStats().secretsUnreadable == 1; }));
  EXPECT_TRUE(catalogHas(**b, "hello", "K", kClear)) << "the value it had";
  ASSERT_TRUE((*a)->setEnv("hello", "MODE", "one").ok());
  EXPECT_TRUE(waitFor([&] { return catalogHas(**b, "hello", "MODE", "one"); }));
  EXPECT_TRUE(catalogHas(**b, "hello", "K", kClear));
  // A node that cannot seal with the registry's key refuses to store a secret.
  auto refused = (*b)->setSecret("hello", "K", "from b");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("does not hold"), std::string::npos) << refused.error().message;

  copyKeys();
  ASSERT_TRUE((*a)->setEnv("hello", "MODE", "two").ok());
  EXPECT_TRUE(waitFor([&] { return catalogHas(**b, "hello", "MODE", "two") && (*b)->watchStats().secretsUnreadable == 0; }));
  EXPECT_TRUE(catalogHas(**b, "hello", "K", kClear));
  ASSERT_TRUE((*b)->setSecret("hello", "K2", "from b").ok());
  EXPECT_TRUE(waitFor([&] { return catalogHas(**a, "hello", "K2", "from b"); }));
  a->reset();
  b->reset();
  std::filesystem::remove_all(dir);
}

TEST(Open, BadRegistryUrlsNameTheProblem) {
  auto bad = Registry::open("mysql://x", "/tmp", nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--registry must be postgres://"), std::string::npos) << bad.error().message;
  // Nothing listens on port 1.
  auto away = Registry::open("postgres://fn0@127.0.0.1:1/fn0", "/tmp", nullptr);
  ASSERT_FALSE(away.ok());
  EXPECT_NE(away.error().message.find("cannot connect to the registry at postgres://fn0@127.0.0.1:1/fn0"),
            std::string::npos)
      << away.error().message;
  EXPECT_EQ(away.error().code, kRegistryUnavailable);
  auto pw = Registry::open("postgres://fn0:hunter2@127.0.0.1:1/fn0", "/tmp", nullptr);
  ASSERT_FALSE(pw.ok());
  EXPECT_EQ(pw.error().message.find("hunter2"), std::string::npos) << "the password leaked: " << pw.error().message;
}

TEST(Open, AnUnknownDatabaseIsNamed) {
  if (postgresUrl().empty()) GTEST_FAIL() << "run through tests/servers/with_servers.py --postgres";
  auto url = postgresUrl();
  url = url.substr(0, url.rfind('/')) + "/no_such_db";
  auto r = Registry::open(url, "/tmp", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no_such_db"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fn0::registry
