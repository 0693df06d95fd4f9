#include "cli/dev.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fmt/core.h>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/apply_config.h"
#include "cli/build.h"
#include "cli/client.h"
#include "cli/js_bundle.h"
#include "common/sha256.h"
#include "dispatch/env_overlay.h"
#include "node/node.h"

namespace fn0::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// What changed between two looks at the project.
struct Changes {
  bool config = false, wit = false, devVars = false, source = false;
  bool any() const { return config || wit || devVars || source; }
};

using Snapshot = std::map<std::string, fs::file_time_type>;

// Modification times of the project's files (build/, node_modules/,
// __pycache__/, dot-folders and a cargo project's target/ excluded: tools
// write there).
Snapshot snapshot(const fs::path& dir) {
  Snapshot out;
  std::error_code ec;
  const bool cargo = fs::exists(dir / "Cargo.toml", ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && (name == "build" || name == "node_modules" || name == "__pycache__" ||
                                 (cargo && name == "target" && it.depth() == 0) ||
                                 (name.size() > 1 && name[0] == '.'))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out[fs::relative(it->path(), dir, ec).generic_string()] = it->last_write_time(ec);
  }
  return out;
}

Changes diff(const Snapshot& a, const Snapshot& b) {
  Changes c;
  auto note = [&](const std::string& f) {
    if (f == "fn0.toml")
      c.config = true;
    else if (f == ".dev.vars")
      c.devVars = true;
    else if (f.rfind("wit/", 0) == 0)
      c.wit = true;
    else
      c.source = true;
  };
  for (const auto& [f, t] : a)
    if (auto it = b.find(f); it == b.end() || it->second != t) note(f);
  for (const auto& [f, t] : b)
    if (!a.count(f)) note(f);
  return c;
}

std::string randomToken() {
  std::random_device rd;
  return fmt::format("dev-{:016x}{:016x}", (uint64_t(rd()) << 32) | rd(), (uint64_t(rd()) << 32) | rd());
}

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

class DevSession {
 public:
  DevSession(Project p, uint16_t port, std::string token, std::shared_ptr<dispatch::EnvOverlay> overlay)
      : p_(std::move(p)), port_(port), client_(Target{"127.0.0.1", port, ""}, std::move(token)),
        overlay_(std::move(overlay)) {}

  const Client& client() const { return client_; }
  const Project& project() const { return p_; }

  // A fresh function for this session (versions of earlier ones pruned).
  void reset() { (void)client_.call("DELETE", "/functions/" + p_.name); }

  // Everything from scratch: engine or build, deploy, config, script.
  bool setUp() {
    if (p_.isJs()) {
      if (!deployEngine()) return false;
      if (!applyConfig()) return false;
      return reloadScript();
    }
    return rebuildC();
  }

  bool onChange(const Changes& c) {
    if (c.config) {
      auto p = Project::load(p_.dir);
      if (!p) {
        say("fn0.toml: {}", p.error().message);
        return false;
      }
      if (p->name != p_.name || p->language != p_.language) {
        say("fn0.toml: name or language changed; restart fn0 dev to use them");
        return false;
      }
      p_ = *p;
      if (!applyConfig()) return false;
      if (!p_.isJs()) return rebuildC();
    }
    if (p_.isJs() && c.wit) return setUp();
    if (p_.isJs()) return reloadScript();
    return rebuildC();
  }

  bool healthy() const { return ok_; }

  template <typename... A>
  static void say(fmt::format_string<A...> f, A&&... a) {
    fmt::print(stderr, "fn0 dev: {}\n", fmt::format(f, std::forward<A>(a)...));
  }

 private:
  bool deploy(const fs::path& wasm, const std::string& what) {
    std::ifstream in(wasm, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    const std::string hash = sha256Hex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (hash == deployedHash_) return true;
    const auto t0 = Clock::now();
    if (what.size()) say("{}", what);
    auto r = client_.call("POST", "/functions/" + p_.name + "/versions", bytes, "application/wasm");
    if (!r) {
      say("deploy failed: {}", r.error().message);
      return false;
    }
    if (r->status >= 300) {
      say("deploy failed: {}", apiMessage(*r));
      return false;
    }
    auto j = json::parse(r->body, nullptr, false);
    deployedHash_ = hash;
    if (!p_.isJs()) say("{} {} is live ({:.0f} ms)", p_.name, j.value("version", "?"), msSince(t0));
    return true;
  }

  bool applyConfig() {
    auto r = applyProjectConfig(client_, p_, p_.isJs() ? kDevScriptCpuAllowanceMs : 0);
    if (!r) say("{}", r.error().message);
    return bool(r);
  }

  bool deployEngine() {
    bool built = false;
    const auto t0 = Clock::now();
    say("preparing the JavaScript engine for this project...");
    auto engine = devEngine(p_, built);
    if (!engine) {
      say("{}", engine.error().message);
      return false;
    }
    if (built) say("engine built in {:.1f} s (once: it is kept in {})", msSince(t0) / 1000, engine->parent_path().string());
    return deploy(*engine, deployedHash_.empty() ? "loading the engine (compiled once per machine)..." : "");
  }

  bool reloadScript() {
    const auto t0 = Clock::now();
    auto script = bundleForDev(p_);
    if (!script) {
      say("build failed: {}", script.error().message);
      ok_ = false;
      return false;
    }
    auto vars = readDevVars(p_);
    if (!vars) {
      say("{}", vars.error().message);
      ok_ = false;
      return false;
    }
    dispatch::EnvOverlay::Vars extra = *vars;
    extra.emplace_back("FN0_DEV_SCRIPT", std::move(*script));
    overlay_->set(p_.name, std::move(extra));
    say("{} in {:.0f} ms", ok_ ? "reloaded" : "ready", msSince(t0));
    ok_ = true;
    return true;
  }

  bool rebuildC() {
    const auto t0 = Clock::now();
    auto built = buildProject(p_);
    if (!built) {
      say("build failed: {}", built.error().message);
      ok_ = false;
      return false;
    }
    auto vars = readDevVars(p_);
    if (!vars) {
      say("{}", vars.error().message);
      return false;
    }
    overlay_->set(p_.name, *vars);
    if (!deploy(*built, "")) return ok_ = false;
    if (!applyConfig()) return ok_ = false;
    say("built and deployed in {:.0f} ms", msSince(t0));
    ok_ = true;
    return true;
  }

  Project p_;
  uint16_t port_;
  Client client_;
  std::shared_ptr<dispatch::EnvOverlay> overlay_;
  std::string deployedHash_;
  bool ok_ = false;
};

// One line per request of the project's function.
void printRequest(const http::AccessRecord& r) {
  auto fn = r.notes.find("function");
  if (fn == r.notes.end()) return;
  std::string cpu;
  if (auto c = r.notes.find("cpu_us"); c != r.notes.end()) cpu = fmt::format(", cpu {:.1f} ms", std::atof(c->second.c_str()) / 1000);
  std::string error;
  if (auto e = r.notes.find("error"); e != r.notes.end()) error = " " + e->second;
  fmt::print("{} {} -> {}{} in {:.1f} ms{}\n", r.method, r.target, r.status, error, r.durationMs, cpu);
  std::fflush(stdout);
}

}  // namespace

int runDev(const Project& project, uint16_t port) {
  const std::string token = randomToken();
  ::setenv("FN0_ADMIN_TOKEN", token.c_str(), 1);
  auto overlay = std::make_shared<dispatch::EnvOverlay>();
  node::NodeConfig cfg;
  cfg.listen = "127.0.0.1:" + std::to_string(port);
  cfg.dataDir = project.workDir() / "dev-data";
  cfg.accessLog = false;
  // The guest's lines go to this terminal as they come; a log kept across
  // `fn0 dev` sessions would only replay old runs.
  cfg.logRetentionMb = 0;
  cfg.onRequest = printRequest;
  cfg.envOverlay = overlay;
  cfg.artifactsDir = userCacheDir() / "dev-artifacts";
  cfg.compileCacheDir = userCacheDir() / "compile-cache";
  // The local node allows what the project's [settings] ask for (a CPython
  // guest asks for more than the default), plus the JS dev engine's work.
  uint64_t cpu = cfg.cpuMs;
  if (project.settingsJson) {
    auto s = json::parse(*project.settingsJson);
    if (s.contains("cpu_ms") && s["cpu_ms"].is_number_unsigned()) cpu = s["cpu_ms"].get<uint64_t>();
  }
  cfg.cpuMs = std::max<uint64_t>(cfg.cpuMs, cpu) + (project.isJs() ? kDevScriptCpuAllowanceMs : 0);
  std::atomic<bool> nodeDone{false};
  std::atomic<int> nodeExit{0};
  std::thread nodeThread([&] {
    nodeExit = node::serve(cfg);
    nodeDone = true;
  });

  DevSession s(project, port, token, overlay);
  bool up = false;
  for (int i = 0; i < 200 && !nodeDone; i++) {
    if (auto r = s.client().call("GET", "/status"); r && r->status == 200) {
      up = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!up) {
    nodeThread.join();
    DevSession::say("the local node did not start (is port {} free? use --port)", port);
    return 1;
  }
  s.reset();
  auto seen = snapshot(project.dir);
  const bool first = s.setUp();
  bool announced = false;
  auto announce = [&] {
    if (announced) return;
    announced = true;
    DevSession::say("serving {} at http://127.0.0.1:{}/{}/ and http://{}.fn0.localhost:{}/ (Ctrl-C stops)",
                    project.name, port, project.name, project.name, port);
  };
  if (first)
    announce();
  else
    DevSession::say("the first build failed (above): nothing is served yet; fix it and save, fn0 dev retries on every change");

  // The guest's output, live, on stdout.
  std::thread logThread([&] {
    while (!nodeDone) {
      std::string pending;
      (void)s.client().stream("/functions/" + project.name + "/logs?follow=true", [&](std::string_view data) {
        pending.append(data);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          if (line.rfind("data: ", 0) != 0) continue;
          auto e = json::parse(line.substr(6), nullptr, false);
          if (!e.is_object()) continue;
          fmt::print("  [{}] {}\n", e.value("request_id", ""), e.value("line", ""));
          std::fflush(stdout);
        }
        return !nodeDone;
      });
      // The function did not exist yet (first build failed) or was redeployed.
      for (int i = 0; i < 5 && !nodeDone; i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  while (!nodeDone) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = snapshot(project.dir);
    Changes c = diff(seen, now);
    if (!c.any()) continue;
    seen = now;
    if (s.onChange(c)) announce();
  }
  nodeThread.join();
  logThread.join();
  return nodeExit;
}

}  // namespace fn0::cli
