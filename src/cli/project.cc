#include "cli/project.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "cli/templates.h"
#include "registry/registry.h"

extern char** environ;

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  return s;
}

// Runs a tool, its output going to our stderr; `env` adds variables.
Result<void> run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                 const fs::path& cwd = {}) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; e++) {
    std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> a, en;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : envs) en.push_back(const_cast<char*>(s.c_str()));
  en.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  std::string dir = cwd.string();
  if (!dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  pid_t pid;
  int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), en.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Error{"cannot run " + argv[0] + ": " + std::strerror(rc) + " (run `make setup` in the fn0 repo)"};
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Error{argv[0] + " failed (its output is above)"};
  return {};
}

}  // namespace

Result<Project> Project::load(const fs::path& dir) {
  std::ifstream in(dir / "fn0.toml");
  if (!in) return Error{"no fn0.toml in " + fs::absolute(dir).string() + ": create a project with `fn0 new NAME`"};
  Project p;
  p.dir = dir;
  std::string line;
  while (std::getline(in, line)) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (key == "name") p.name = value;
    if (key == "language") p.language = value;
    if (key == "entry") p.entry = value;
    if (key == "output") p.output = value;
  }
  if (!registry::isDnsLabel(p.name)) return Error{"fn0.toml: name must be a DNS label, got '" + p.name + "'"};
  if (p.language != "js" && p.language != "ts" && p.language != "c")
    return Error{"fn0.toml: language must be js, ts or c, got '" + p.language + "'"};
  if (p.entry.empty()) return Error{"fn0.toml: entry is missing"};
  if (p.output.empty()) p.output = "build/" + p.name + ".wasm";
  return p;
}

Result<void> newProject(const std::string& name, const std::string& language, const fs::path& dir) {
  if (!registry::isDnsLabel(name))
    return Error{"invalid name '" + name + "': use lowercase letters, digits and hyphens"};
  if (fs::exists(dir) && !fs::is_empty(dir)) return Error{dir.string() + " already exists and is not empty"};
  bool any = false;
  for (const auto& f : templateFiles()) {
    if (language != f.language) continue;
    any = true;
    std::string text = f.content;
    for (size_t at; (at = text.find("{{name}}")) != std::string::npos;) text.replace(at, 8, name);
    fs::path out = dir / f.path;
    fs::create_directories(out.parent_path());
    std::ofstream(out, std::ios::binary) << text;
  }
  if (!any) return Error{"unknown template '" + language + "': use js, ts or c"};
  std::ofstream(dir / ".gitignore") << "build/\n";
  return {};
}

// The project's WIT (wit/*.wit) plus the WASI packages fn0 derived for its
// host, assembled in the build folder; without a wit/ folder, fn0's own.
Result<fs::path> witFolder(const Project& p, const fs::path& work, const fs::path& fn0Wit) {
  if (!fs::is_directory(p.dir / "wit")) return fn0Wit;
  const fs::path out = work / "wit";
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(p.dir / "wit"))
    if (e.path().extension() == ".wit") fs::copy_file(e.path(), out / e.path().filename());
  // Copied, not linked: componentize-js (through Node's WASI) does not follow symlinks.
  fs::copy(fn0Wit / "deps", out / "deps", fs::copy_options::recursive, ec);
  if (ec) return Error{"cannot prepare WIT in " + out.string() + ": " + ec.message()};
  return out;
}

Result<fs::path> buildProject(const Project& p) {
  const fs::path work = p.dir / "build" / ".fn0";
  fs::create_directories(work);
  fs::create_directories(p.outputPath().parent_path());
  const fs::path entry = fs::absolute(p.dir / p.entry);
  const fs::path out = fs::absolute(p.outputPath());
  if (!fs::exists(entry)) return Error{"fn0.toml: entry " + p.entry + " does not exist"};
  if (p.language == "c") {
    const fs::path gen = work / "gen";
    auto wit = witFolder(p, work, FN0_WIT_C_DIR);
    if (!wit) return wit.error();
    if (auto r = run({std::string(FN0_TOOLS_BIN) + "/wit-bindgen", "c", "--world", "c-handler", "--out-dir",
                      gen.string(), wit->string()});
        !r)
      return r.error();
    std::vector<std::string> cc = {FN0_WASM_CLANG, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
                                   "-I" + gen.string(), "-I" + (p.dir / "src").string(), "-o",
                                   (work / "core.wasm").string()};
    for (const auto& e : fs::directory_iterator(p.dir / "src"))
      if (e.path().extension() == ".c") cc.push_back(fs::absolute(e.path()).string());
    cc.push_back((gen / "c_handler.c").string());
    cc.push_back((gen / "c_handler_component_type.o").string());
    if (auto r = run(cc); !r) return r.error();
    if (auto r = run({std::string(FN0_TOOLS_BIN) + "/wasm-tools", "component", "new", (work / "core.wasm").string(),
                      "--adapt", std::string("wasi_snapshot_preview1=") + FN0_PREVIEW1_REACTOR, "-o", out.string()});
        !r)
      return r.error();
    return out;
  }
  const fs::path js = FN0_JS_TOOLS_DIR;
  fs::path source = entry;
  if (p.language == "ts") {
    source = work / "bundle.js";
    if (auto r = run({(js / "node_modules/.bin/esbuild").string(), entry.string(), "--bundle", "--format=esm",
                      "--platform=neutral", "--log-level=warning", "--outfile=" + source.string()});
        !r)
      return r.error();
  }
  fs::create_directories(work / "tmp");
  auto wit = witFolder(p, work, FN0_WIT_JS_DIR);
  if (!wit) return wit.error();
  if (auto r = run({(js / "node_modules/.bin/componentize-js").string(), source.string(), "--wit", wit->string(),
                    "--world-name", "js-handler", "-o", out.string()},
                   {{"TMPDIR", (work / "tmp").string()}, {"NODE_OPTIONS", "--import=" + (js / "preopen.mjs").string()}});
      !r)
    return r.error();
  return out;
}

}  // namespace fn0::cli
