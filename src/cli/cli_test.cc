// The CLI's pure parts: names, did-you-mean, deploy file checks, settings
// edits, and the human views of logs and versions.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/input.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"
#include "cli/project.h"
#include "cli/templates.h"
#include "cli/settings.h"
#include "cli/views.h"
#include "registry/registry.h"

namespace fn0::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

TEST(Names, NormalisedToADnsLabel) {
  EXPECT_EQ(normalizeName("Hello_World"), "hello-world");
  EXPECT_EQ(normalizeName("my app..v2"), "my-app-v2");
  EXPECT_EQ(normalizeName("__x__"), "x");
  EXPECT_EQ(normalizeName("___"), "");
  EXPECT_EQ(normalizeName(std::string(100, 'a')).size(), 63u);
  EXPECT_TRUE(registry::isDnsLabel(normalizeName(std::string(62, 'a') + "_b")));
}

TEST(Names, ARefusedNameStatesTheRuleAndASuggestion) {
  EXPECT_TRUE(checkFunctionName("hello-world"));
  auto bad = checkFunctionName("Hello_World");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid-name");
  EXPECT_NE(bad.error().message.find(registry::kFunctionNameRule), std::string::npos);
  EXPECT_NE(bad.error().message.find("try 'hello-world'"), std::string::npos);
}

TEST(Languages, EachHasATemplateThatNamesIt) {
  ASSERT_FALSE(languages().empty());
  for (const auto& l : languages()) {
    const fs::path dir = fs::temp_directory_path() / ("fn0-lang-test-" + l.name);
    fs::remove_all(dir);
    ASSERT_TRUE(newProject("app-" + l.name, l.name, dir)) << l.name;
    auto p = Project::load(dir);
    ASSERT_TRUE(p) << l.name << ": " << p.error().message;
    EXPECT_EQ(p->language, l.name);
    EXPECT_EQ(p->name, "app-" + l.name);
    EXPECT_TRUE(fs::exists(dir / p->entry)) << l.name << ": entry " << p->entry;
    EXPECT_TRUE(fs::exists(dir / "README.md")) << l.name;
    fs::remove_all(dir);
  }
}

TEST(Languages, AnUnknownOneIsRefusedWithTheList) {
  EXPECT_EQ(findLanguage("cobol"), nullptr);
  const fs::path dir = fs::temp_directory_path() / "fn0-lang-test-unknown";
  fs::remove_all(dir);
  auto r = newProject("app", "cobol", dir);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(languageNames()), std::string::npos) << r.error().message;
  fs::create_directories(dir);
  std::ofstream(dir / "fn0.toml") << "name = \"app\"\nlanguage = \"cobol\"\nentry = \"x\"\n";
  auto p = Project::load(dir);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("one of js, ts, c"), std::string::npos) << p.error().message;
  fs::remove_all(dir);
}

TEST(Languages, AMissingToolIsNamedWithItsFix) {
  EXPECT_FALSE(needProgram("/nonexistent/clang-99", "apt-get install clang-99")->what.empty());
  EXPECT_EQ(needProgram("/nonexistent/clang-99", "apt-get install clang-99")->fix, "apt-get install clang-99");
  EXPECT_FALSE(needProgram("sh", "x"));
  EXPECT_TRUE(needProgram("no-such-program-fn0", "x"));
  EXPECT_FALSE(needPath("/", "root", "x"));
}

TEST(Nearest, FindsTyposNotStrangers) {
  const std::vector<std::string> commands = {"deploy", "delete", "list", "logs", "login", "secret", "settings", "status"};
  EXPECT_EQ(nearest("deplyo", commands), "deploy");
  EXPECT_EQ(nearest("lsit", commands), "list");
  EXPECT_EQ(nearest("secrets", commands), "secret");
  EXPECT_EQ(nearest("setings", commands), "settings");
  EXPECT_EQ(nearest("frobnicate", commands), "");
  EXPECT_EQ(nearest("x", commands), "");
  EXPECT_EQ(nearest("sett", commands), "settings");  // the start of one command only
  EXPECT_EQ(nearest("--nmae", {"--name", "--env", "--dir"}), "--name");
}

class ComponentFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fn0-cli-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  fs::path dir_;
};

TEST_F(ComponentFiles, ToldApartByNameAndMagic) {
  EXPECT_TRUE(checkComponentFile(write("ok.wasm", std::string("\0asm\x0d\0\x01\0", 8) + "rest")));
  auto core = checkComponentFile(write("core.wasm", std::string("\0asm\x01\0\0\0", 8)));
  ASSERT_FALSE(core);
  EXPECT_EQ(core.error().code, "core-module");
  auto text = checkComponentFile(write("notes.wasm", "hello there"));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, "not-wasm");
  auto js = checkComponentFile(write("app.js", "export default {}"));
  ASSERT_FALSE(js);
  EXPECT_EQ(js.error().code, "source-file");
  EXPECT_NE(js.error().message.find("app.js is JavaScript source, not a component"), std::string::npos);
  EXPECT_NE(js.error().message.find("--template js"), std::string::npos);
  auto py = checkComponentFile(write("app.py", "print()"));
  ASSERT_FALSE(py);
  EXPECT_NE(py.error().message.find("Python"), std::string::npos);
}

TEST(SettingEdits, MergeIntoWhatIsStored) {
  auto r = applySettingEdits(json{{"cpu_ms", 50}, {"allow", {"10.0.0.0/8"}}}, {"memory_mb=64", "cpu-ms="});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (json{{"memory_mb", 64}, {"allow", {"10.0.0.0/8"}}}));
  auto allow = applySettingEdits(json::object(), {"allow=127.0.0.1/32:8080, 10.0.0.0/8:443"});
  ASSERT_TRUE(allow);
  EXPECT_EQ((*allow)["allow"], (json{"127.0.0.1/32:8080", "10.0.0.0/8:443"}));
  auto typo = applySettingEdits(json::object(), {"cpu_sm=5"});
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("did you mean 'cpu_ms'"), std::string::npos);
  EXPECT_FALSE(applySettingEdits(json::object(), {"cpu_ms=fast"}));
  EXPECT_FALSE(applySettingEdits(json::object(), {"cpu_ms"}));
}

TEST(SettingEdits, EffectiveValuesFollowTheNode) {
  const json limits = {{"cpu_ms", {{"default", 10}, {"max", 10}}},
                       {"reuse_instance_requests", {{"default", 0}, {"max", 10000}}}};
  const json e = effectiveSettings(json{{"cpu_ms", 50}}, limits);
  EXPECT_EQ(e["cpu_ms"], 10);  // lowered to the node's maximum
  EXPECT_EQ(e["reuse_instance_requests"], 0);
  EXPECT_EQ(effectiveSettings(json{{"cpu_ms", 5}}, limits)["cpu_ms"], 5);
  EXPECT_TRUE(effectiveSettings(json::object(), nullptr).is_null());
}

TEST(Views, LogLinesHaveTimeAndVersion) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const json e = {{"time", 1700000000.25}, {"version", "v3"}, {"request_id", "r1"}, {"stream", "stderr"},
                  {"line", "oops"}, {"node", "n1"}};
  EXPECT_EQ(logLine(e, false, 1700000100), "22:13:20.250 v3 r1 ! oops");
  EXPECT_EQ(logLine(e, true, 1700000100), "n1 22:13:20.250 v3 r1 ! oops");
  EXPECT_EQ(logLine(e, false, 1800000000), "2023-11-14 22:13:20.250 v3 r1 ! oops");  // another day: the date too
}

TEST(Views, VersionsMarkLiveAndAliases) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const json f = {{"name", "hello"},
                  {"live", "v2"},
                  {"aliases", {{"live", "v2"}, {"canary", "v2"}, {"old", "v1"}}},
                  {"versions",
                   {{{"version", "v1"}, {"number", 1}, {"hash", "aaaaaaaaaaaaaaaa"}, {"size", 2048}, {"created_at", 1700000000}},
                    {{"version", "v2"}, {"number", 2}, {"hash", "bbbbbbbbbbbbbbbb"}, {"size", 10}, {"created_at", 1700000060}}}}};
  const json listed = versionsWithAliases(f);
  EXPECT_EQ(listed["versions"][1]["live"], true);
  EXPECT_EQ(listed["versions"][1]["aliases"], (json{"canary", "live"}));
  EXPECT_EQ(listed["versions"][0]["created_at"], 1700000000);
  const std::string table = versionsTable(listed, 1700000100);
  EXPECT_NE(table.find("* v2"), std::string::npos) << table;
  EXPECT_NE(table.find("2023-11-14 22:13:20 UTC"), std::string::npos) << table;
  EXPECT_NE(table.find("canary, live"), std::string::npos) << table;
}

TEST(Views, GcSummaryByFunctionAndKind) {
  const json report = {
      {"dry_run", true},
      {"grace_s", 3600},
      {"kept_young", 2},
      {"failures", json::array({"artifact artifacts/x: denied"})},
      {"nodes", json::array({{{"node", "a"}, {"self", true}}, {{"node", "b"}, {"error", "no answer within 30000 ms"}}})},
      {"totals",
       {{"versions", 3},
        {"objects", 4},
        {"bytes", 3 << 20},
        {"by_kind", {{"original", {{"count", 2}, {"bytes", 1 << 20}}}, {"artifact", {{"count", 2}, {"bytes", 2 << 20}}}}},
        {"versions_by_function", {{"api", json::array({"v1", "v2"})}, {"web", json::array({"v7"})}}}}}};
  const std::string text = gcSummary(report);
  for (const char* part : {"would delete 3 version(s), 4 object(s)", "dry run", "api: v1 v2", "web: v7",
                           "original: 2", "artifact: 2", "kept 2 unreferenced", "(3600 s)",
                           "node b did not sweep its files: no answer", "could not delete: artifact artifacts/x"})
    EXPECT_NE(text.find(part), std::string::npos) << part << " in:\n" << text;
}

TEST(Layout, InstalledWhereTheMarkerIsElseTheBuildTree) {
  const fs::path prefix = fs::temp_directory_path() / ("fn0-layout-test-" + std::to_string(::getpid()));
  fs::remove_all(prefix);
  fs::create_directories(prefix / "bin");
  // No share/fn0/versions.env next to it: the paths the build compiled in.
  const Layout dev = layoutFor(prefix / "bin" / "fn0");
  EXPECT_FALSE(dev.installed);
  EXPECT_EQ(dev.toolsBin, fs::path(FN0_TOOLS_BIN_FOR_TEST));
  fs::create_directories(prefix / "share/fn0");
  std::ofstream(prefix / "share/fn0" / kInstalledMarker) << "WASMTIME_VERSION=1\n";
  const Layout l = layoutFor(prefix / "bin" / "fn0");
  EXPECT_TRUE(l.installed);
  EXPECT_EQ(l.root, prefix);
  for (const fs::path& p : {l.toolsBin, l.jsTools, l.witC, l.witJs, l.preview1Reactor, l.goWitRuntime,
                            l.componentizePy})
    EXPECT_EQ(p.string().rfind(prefix.string() + "/", 0), 0u) << p;
  EXPECT_EQ(l.toolsBin, prefix / "libexec/fn0");
  EXPECT_EQ(l.witJs, prefix / "share/fn0/wit/js");
  // The same tree moved elsewhere: everything follows it.
  const fs::path moved = prefix.string() + "-moved";
  fs::remove_all(moved);
  fs::rename(prefix, moved);
  EXPECT_EQ(layoutFor(moved / "bin" / "fn0").preview1Reactor,
            moved / "share/fn0/adapters/wasi_snapshot_preview1.reactor.wasm");
  fs::remove_all(moved);
}

}  // namespace
}  // namespace fn0::cli
