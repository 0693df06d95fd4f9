#include "cli/commands.h"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fmt/core.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/config.h"
#include "cli/dev.h"
#include "cli/apply_config.h"
#include "cli/build.h"
#include "cli/project.h"
#include "cli/views.h"
#include "common/version.h"
#include "runtime/engine.h"

namespace fn0::cli {

using nlohmann::json;

namespace {

bool colour() { return ::isatty(2) != 0; }

int fail(const std::string& msg, int code = 1) {
  fmt::print(stderr, "{}error:{} {}\n", colour() ? "\033[31m" : "", colour() ? "\033[0m" : "", msg);
  return code;
}

// A value typed at a prompt (without echo on a terminal) or read from stdin.
std::string readSecretValue(const std::string& prompt) {
  std::string value;
  if (::isatty(0)) {
    fmt::print(stderr, "{}", prompt);
    termios old{};
    ::tcgetattr(0, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
    std::getline(std::cin, value);
    ::tcsetattr(0, TCSANOW, &old);
    fmt::print(stderr, "\n");
  } else {
    value.assign(std::istreambuf_iterator<char>(std::cin), {});
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  }
  return value;
}

std::string progressBar(uint64_t done, uint64_t total) {
  const int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
         std::to_string(total ? 100 * done / total : 100) + "%";
}

}  // namespace

class Commands {
 public:
  explicit Commands(CLI::App& app) {
    auto jsonFlag = [&](CLI::App* c) { c->add_flag("--json", json_, "Print machine-readable JSON"); };

    login_ = app.add_subcommand("login", "Save the server URL and admin token this CLI uses");
    login_->add_option("--server", server_, "The node, e.g. http://127.0.0.1:8080")->required();
    login_->footer("The token is read from stdin or a prompt, never from the command line.\n"
                   "Example:\n  cat build/run-data/admin-token | fn0 login --server http://127.0.0.1:8080");

    new_ = app.add_subcommand("new", "Create a project from a template");
    new_->add_option("name", name_, "Function name (also the folder)")->required();
    new_->add_option("--template,-t", template_, "js | ts | c")->capture_default_str()->check(CLI::IsMember({"js", "ts", "c"}));
    new_->add_option("--dir", file_, "Folder to create (default: NAME)");
    new_->footer("Example:\n  fn0 new hello --template ts && cd hello && fn0 dev");

    build_ = app.add_subcommand("build", "Build the project in this folder (fn0.toml)");
    build_->add_option("--dir", dir_, "Project folder")->capture_default_str();
    build_->footer("Example:\n  fn0 build");

    dev_ = app.add_subcommand("dev", "Build, serve locally, rebuild and reload on change, print logs");
    dev_->add_option("--dir", dir_, "Project folder")->capture_default_str();
    dev_->add_option("--port", port_, "Local port")->capture_default_str();
    dev_->footer("Example:\n  fn0 dev --port 8787");

    deploy_ = app.add_subcommand("deploy", "Deploy a component (or this folder's project) as a new version");
    deploy_->add_option("file", file_, "The component (.wasm); without it the project in --dir is built and deployed")
        ->check(CLI::ExistingFile);
    deploy_->add_option("--dir", dir_, "Project folder (when no file is given)")->capture_default_str();
    deploy_->add_option("--name", name_, "Function name (default: the file name)");
    deploy_->add_option("--env", envs_, "KEY=VALUE environment variable (repeatable)");
    deploy_->add_flag("--no-live", noLive_, "Create the version without moving live to it");
    deploy_->footer("Example:\n  fn0 deploy build/examples/hello-js.wasm --name hello --env MODE=prod");
    jsonFlag(deploy_);

    list_ = app.add_subcommand("list", "List functions");
    list_->footer("Example:\n  fn0 list --json");
    jsonFlag(list_);

    info_ = app.add_subcommand("info", "Show a function: versions, aliases, env, secret names");
    info_->add_option("name", name_)->required();
    info_->footer("Example:\n  fn0 info hello");
    jsonFlag(info_);

    versions_ = app.add_subcommand("versions", "List a function's versions");
    versions_->add_option("name", name_)->required();
    versions_->footer("Example:\n  fn0 versions hello");
    jsonFlag(versions_);

    rollback_ = app.add_subcommand("rollback", "Move live to an earlier version (default: the one before)");
    rollback_->add_option("name", name_)->required();
    rollback_->add_option("version", version_, "e.g. v2");
    rollback_->footer("Example:\n  fn0 rollback hello v1");
    jsonFlag(rollback_);

    alias_ = app.add_subcommand("alias", "Manage a function's aliases");
    alias_->add_option("name", name_)->required();
    alias_->add_option("action", action_, "set | list | delete")->required()->check(CLI::IsMember({"set", "list", "delete"}));
    alias_->add_option("args", args_, "set ALIAS VERSION | delete ALIAS");
    alias_->footer("Example:\n  fn0 alias hello set canary v3");
    jsonFlag(alias_);

    delete_ = app.add_subcommand("delete", "Delete a function and all its versions");
    delete_->add_option("name", name_)->required();
    delete_->add_flag("--yes,-y", yes_, "Do not ask");
    delete_->footer("Example:\n  fn0 delete hello --yes");
    jsonFlag(delete_);

    env_ = app.add_subcommand("env", "Manage a function's environment variables");
    env_->add_option("name", name_)->required();
    env_->add_option("action", action_, "set | unset | list")->required()->check(CLI::IsMember({"set", "unset", "list"}));
    env_->add_option("args", args_, "set KEY=VALUE... | unset KEY...");
    env_->footer("Example:\n  fn0 env hello set MODE=prod LEVEL=2");
    jsonFlag(env_);

    secret_ = app.add_subcommand("secret", "Manage a function's secrets (values are write-only)");
    secret_->add_option("name", name_)->required();
    secret_->add_option("action", action_, "set | delete | list")->required()->check(CLI::IsMember({"set", "delete", "list"}));
    secret_->add_option("key", key_);
    secret_->footer("The value is read from stdin or a prompt, never from the command line.\n"
                    "Example:\n  printf %s \"$API_KEY\" | fn0 secret hello set API_KEY");
    jsonFlag(secret_);

    logs_ = app.add_subcommand("logs", "Show a function's recent output (with request ids; in a cluster, every node's)");
    logs_->add_option("name", name_)->required();
    logs_->add_flag("--follow,-f", follow_, "Keep printing new lines");
    logs_->add_option("--since", since_, "Only lines newer than this many seconds");
    logs_->footer("In a cluster each line starts with the node that wrote it.\nExample:\n  fn0 logs hello --follow");
    jsonFlag(logs_);

    export_ = app.add_subcommand("export", "Download a version's original component");
    export_->add_option("name", name_)->required();
    export_->add_option("version", version_, "Default: the live version");
    export_->add_option("-o,--output", file_, "Where to write it")->required();
    export_->footer("Example:\n  fn0 export hello v2 -o hello-v2.wasm");

    metrics_ = app.add_subcommand("metrics", "Show a function's request counters (summed over a cluster's nodes)");
    metrics_->add_option("name", name_)->required();
    metrics_->footer("Example:\n  fn0 metrics hello");
    jsonFlag(metrics_);

    status_ = app.add_subcommand("status", "Show the node's status (and the cluster's nodes)");
    status_->footer("Example:\n  fn0 status");
    jsonFlag(status_);

    version_cmd_ = app.add_subcommand("version", "Print fn0's version and the wasmtime it embeds");
    jsonFlag(version_cmd_);
  }

  int run() {
    if (version_cmd_->parsed()) {
      if (json_)
        fmt::print("{}\n", json{{"fn0", kVersion}, {"wasmtime", runtime::wasmtimeVersion()}}.dump());
      else
        fmt::print("fn0 {} (wasmtime {})\n", kVersion, runtime::wasmtimeVersion());
      return 0;
    }
    if (login_->parsed()) return login();
    if (new_->parsed()) {
      std::filesystem::path dir = file_.empty() ? std::filesystem::path(name_) : std::filesystem::path(file_);
      if (auto r = newProject(name_, template_, dir); !r) return fail(r.error().message, 2);
      fmt::print("created {} ({} template) in {}/\nnext:\n  cd {}\n  fn0 dev        # serve locally, rebuild on change\n  fn0 deploy     # deploy to your node\n",
                 name_, template_, dir.string(), dir.string());
      return 0;
    }
    if (build_->parsed() || dev_->parsed()) {
      auto p = Project::load(dir_);
      if (!p) return fail(p.error().message);
      if (dev_->parsed()) return runDev(*p, port_);
      auto out = buildProject(*p);
      if (!out) return fail(out.error().message);
      fmt::print("built {}\n", std::filesystem::relative(*out).string());
      return 0;
    }
    for (CLI::App* c : {deploy_, list_, info_, versions_, rollback_, alias_, delete_, env_, secret_, logs_, export_,
                        metrics_, status_})
      if (c->parsed()) {
        auto client = connect();
        if (!client) return fail(client.error().message);
        client_ = std::make_unique<Client>(std::move(client).value());
        if (c == deploy_) return deploy();
        if (c == list_) return list();
        if (c == info_) return info();
        if (c == versions_) return versions();
        if (c == rollback_) return rollback();
        if (c == alias_) return alias();
        if (c == delete_) return remove();
        if (c == env_) return env();
        if (c == secret_) return secret();
        if (c == logs_) return logs();
        if (c == export_) return exportVersion();
        if (c == metrics_) return metrics();
        if (c == status_) return status();
      }
    return -1;
  }

 private:
  Result<Client> connect() {
    auto cfg = loadConfig();
    if (cfg.server.empty()) return Error{"no server configured: run `fn0 login --server URL` (or set FN0_SERVER)"};
    auto target = Target::parse(cfg.server);
    if (!target) return target.error();
    return Client(*target, cfg.token);
  }

  // Calls the API; on failure prints why and returns nullopt.
  std::optional<json> api(const std::string& method, const std::string& path, const std::string& body = {},
                          const std::string& type = {}, int* exitCode = nullptr,
                          const std::function<void(uint64_t, uint64_t)>& progress = {}) {
    auto r = client_->call(method, path, body, type, progress);
    int code = 1;
    if (!r) {
      fail(r.error().message);
    } else if (r->status == 401) {
      fail("the server rejected the admin token: run `fn0 login` with a valid one (or set FN0_TOKEN)");
    } else if (r->status >= 300) {
      auto j = json::parse(r->body, nullptr, false);
      std::string msg = j.is_object() && j.contains("message") ? j["message"].get<std::string>() : r->body;
      fail(msg);
    } else {
      auto j = json::parse(r->body, nullptr, false);
      if (j.is_discarded()) j = json(r->body);
      return j;
    }
    if (exitCode) *exitCode = code;
    return std::nullopt;
  }

  void print(const json& j, const std::function<void()>& human) {
    if (json_)
      fmt::print("{}\n", j.dump(2));
    else
      human();
  }

  int login() {
    auto target = Target::parse(server_);
    if (!target) return fail(target.error().message, 2);
    std::string token = readSecretValue("admin token: ");
    if (token.empty()) return fail("no token given (pipe it to stdin or type it at the prompt)", 2);
    client_ = std::make_unique<Client>(*target, token);
    if (!api("GET", "/status")) return 1;
    if (auto s = saveConfig({server_, token}); !s) return fail(s.error().message);
    fmt::print("logged in to {} (saved in {})\n", server_, configPath().string());
    return 0;
  }

  int deploy() {
    std::optional<Project> project;
    if (file_.empty()) {
      auto p = Project::load(dir_);
      if (!p) return fail(p.error().message + " (or give a .wasm file)", 2);
      auto out = buildProject(*p);
      if (!out) return fail(out.error().message);
      file_ = out->string();
      if (name_.empty()) name_ = p->name;
      p->name = name_;
      project = *p;
    }
    if (name_.empty()) {
      name_ = std::filesystem::path(file_).stem().string();
      for (auto& ch : name_) ch = (std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '-');
    }
    std::ifstream in(file_, std::ios::binary);
    std::string wasm{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::pair<std::string, std::string>> env;
    for (const auto& e : envs_) {
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0) return fail("--env needs KEY=VALUE, got '" + e + "'", 2);
      env.emplace_back(e.substr(0, eq), e.substr(eq + 1));
    }
    const bool tty = ::isatty(2) && !json_;
    auto progress = [&](uint64_t done, uint64_t total) {
      if (tty) fmt::print(stderr, "\rupload  {}", progressBar(done, total));
      if (tty && done == total) fmt::print(stderr, "\ncompile ... ");
    };
    // A project's fn0.toml ([vars], [settings]) is applied before live moves.
    const bool holdLive = noLive_ || project;
    auto r = api("POST", "/functions/" + name_ + "/versions" + (holdLive ? "?live=false" : ""), wasm,
                 "application/wasm", nullptr, progress);
    if (tty) fmt::print(stderr, "{}", r ? "done\n" : "\n");
    if (!r) return 1;
    if (project) {
      if (auto c = applyProjectConfig(*client_, *project); !c) return fail(c.error().message);
      if (!noLive_) {
        const json to = {{"version", (*r)["version"]}};
        if (!api("PUT", "/functions/" + name_ + "/aliases/live", to.dump(), "application/json")) return 1;
        (*r)["live"] = true;
      }
    }
    for (const auto& [k, v] : env)
      if (!api("PUT", "/functions/" + name_ + "/env/" + k, json{{"value", v}}.dump(), "application/json")) return 1;
    print(*r, [&] {
      fmt::print("deployed {} {}{}{}\n", (*r)["function"].get<std::string>(), (*r)["version"].get<std::string>(),
                 (*r)["live"].get<bool>() ? " (live)" : "", (*r)["created"].get<bool>() ? "" : " — identical to an existing version");
      for (const auto& [k, v] : (*r)["urls"].items()) fmt::print("  {:10} {}\n", k, v.get<std::string>());
    });
    return 0;
  }

  int list() {
    auto r = api("GET", "/functions");
    if (!r) return 1;
    print(*r, [&] {
      if ((*r)["functions"].empty()) {
        fmt::print("no functions yet: deploy one with `fn0 deploy FILE.wasm --name NAME`\n");
        return;
      }
      fmt::print("{:24} {:6} {}\n", "NAME", "LIVE", "VERSIONS");
      for (const auto& f : (*r)["functions"])
        fmt::print("{:24} {:6} {}\n", f["name"].get<std::string>(), f["live"].is_null() ? "-" : f["live"].get<std::string>(),
                   f["versions"].size());
    });
    return 0;
  }

  int info() {
    auto r = api("GET", "/functions/" + name_);
    if (!r) return 1;
    print(*r, [&] {
      fmt::print("{}  live: {}\n", (*r)["name"].get<std::string>(), (*r)["live"].is_null() ? "-" : (*r)["live"].get<std::string>());
      for (const auto& [k, v] : (*r)["aliases"].items()) fmt::print("  alias  {} -> {}\n", k, v.get<std::string>());
      for (const auto& v : (*r)["versions"]) fmt::print("  version {} {} bytes sha256:{}\n", v["version"].get<std::string>(), v["size"].get<int64_t>(), v["hash"].get<std::string>().substr(0, 12));
      for (const auto& [k, v] : (*r)["env"].items()) fmt::print("  env    {}={}\n", k, v.get<std::string>());
      for (const auto& s : (*r)["secrets"]) fmt::print("  secret {}\n", s.get<std::string>());
    });
    return 0;
  }

  int versions() {
    auto r = api("GET", "/functions/" + name_ + "/versions");
    if (!r) return 1;
    print(*r, [&] {
      for (const auto& v : (*r)["versions"])
        fmt::print("{:6} {:10} bytes  sha256:{}\n", v["version"].get<std::string>(), v["size"].get<int64_t>(), v["hash"].get<std::string>().substr(0, 12));
    });
    return 0;
  }

  int rollback() {
    std::string target = version_;
    if (target.empty()) {
      auto f = api("GET", "/functions/" + name_);
      if (!f) return 1;
      if ((*f)["live"].is_null()) return fail("'" + name_ + "' has no live version to roll back from");
      int64_t live = std::stoll((*f)["live"].get<std::string>().substr(1)), prev = 0;
      for (const auto& v : (*f)["versions"])
        if (v["number"].get<int64_t>() < live) prev = std::max(prev, v["number"].get<int64_t>());
      if (!prev) return fail("'" + name_ + "' has no version before v" + std::to_string(live));
      target = "v" + std::to_string(prev);
    }
    auto r = api("PUT", "/functions/" + name_ + "/aliases/live", json{{"version", target}}.dump(), "application/json");
    if (!r) return 1;
    print(*r, [&] { fmt::print("{} live -> {}\n", name_, (*r)["version"].get<std::string>()); });
    return 0;
  }

  int alias() {
    if (action_ == "list") {
      auto r = api("GET", "/functions/" + name_ + "/aliases");
      if (!r) return 1;
      print(*r, [&] { for (const auto& [k, v] : r->items()) fmt::print("{} -> {}\n", k, v.get<std::string>()); });
      return 0;
    }
    if (action_ == "set") {
      if (args_.size() != 2) return fail("usage: fn0 alias NAME set ALIAS VERSION", 2);
      auto r = api("PUT", "/functions/" + name_ + "/aliases/" + args_[0], json{{"version", args_[1]}}.dump(), "application/json");
      if (!r) return 1;
      print(*r, [&] { fmt::print("{} {} -> {}\n", name_, args_[0], (*r)["version"].get<std::string>()); });
      return 0;
    }
    if (args_.size() != 1) return fail("usage: fn0 alias NAME delete ALIAS", 2);
    auto r = api("DELETE", "/functions/" + name_ + "/aliases/" + args_[0]);
    if (!r) return 1;
    print(*r, [&] { fmt::print("deleted alias {}\n", args_[0]); });
    return 0;
  }

  int remove() {
    if (!yes_) {
      if (!::isatty(0)) return fail("refusing to delete '" + name_ + "' without --yes (no terminal to ask)", 2);
      fmt::print(stderr, "delete '{}' and all its versions? [y/N] ", name_);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "yes") return fail("not deleted", 1);
    }
    auto r = api("DELETE", "/functions/" + name_);
    if (!r) return 1;
    print(*r, [&] { fmt::print("deleted {}\n", name_); });
    return 0;
  }

  int env() {
    if (action_ == "list") {
      auto r = api("GET", "/functions/" + name_ + "/env");
      if (!r) return 1;
      print(*r, [&] { for (const auto& [k, v] : r->items()) fmt::print("{}={}\n", k, v.get<std::string>()); });
      return 0;
    }
    if (args_.empty()) return fail("usage: fn0 env NAME " + action_ + (action_ == "set" ? " KEY=VALUE..." : " KEY..."), 2);
    json done = json::array();
    for (const auto& a : args_) {
      if (action_ == "set") {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0) return fail("expected KEY=VALUE, got '" + a + "'", 2);
        if (!api("PUT", "/functions/" + name_ + "/env/" + a.substr(0, eq), json{{"value", a.substr(eq + 1)}}.dump(), "application/json")) return 1;
        done.push_back(a.substr(0, eq));
      } else {
        if (!api("DELETE", "/functions/" + name_ + "/env/" + a)) return 1;
        done.push_back(a);
      }
    }
    print(json{{action_, done}}, [&] { fmt::print("{} {}\n", action_, done.dump()); });
    return 0;
  }

  int secret() {
    if (action_ == "list") {
      auto r = api("GET", "/functions/" + name_ + "/secrets");
      if (!r) return 1;
      print(*r, [&] { for (const auto& s : (*r)["secrets"]) fmt::print("{}\n", s.get<std::string>()); });
      return 0;
    }
    if (key_.empty()) return fail("usage: fn0 secret NAME " + action_ + " KEY", 2);
    if (action_ == "set") {
      std::string value = readSecretValue("value of " + key_ + ": ");
      if (!api("PUT", "/functions/" + name_ + "/secrets/" + key_, json{{"value", value}}.dump(), "application/json")) return 1;
    } else if (!api("DELETE", "/functions/" + name_ + "/secrets/" + key_)) {
      return 1;
    }
    print(json{{action_, key_}}, [&] { fmt::print("secret {} {}\n", key_, action_ == "set" ? "set" : "deleted"); });
    return 0;
  }

  void printEntry(const json& e, bool withNode) {
    if (json_)
      fmt::print("{}\n", e.dump());
    else
      fmt::print("{}\n", logLine(e, withNode));
    std::fflush(stdout);
  }

  // The lines so far (every node's, in a cluster), then with --follow the
  // new ones as they come, from where that page ended.
  int logs() {
    const double cutoff = since_ > 0 ? std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - since_ : 0;
    auto r = api("GET", "/functions/" + name_ + "/logs?limit=10000");
    if (!r) return 1;
    const bool clustered = r->value("clustered", false);
    for (const auto& e : (*r)["entries"])
      if (e["time"].get<double>() >= cutoff) printEntry(e, clustered);
    if (auto note = unreachableNote(*r); !note.empty()) fmt::print(stderr, "{}\n", note);
    if (!follow_) return 0;
    // A node before cluster-wide logs gives no cursor, only its last seq.
    const std::string from = r->contains("cursor") ? "cursor=" + urlEncode((*r)["cursor"].get<std::string>())
                                                   : "after=" + std::to_string((*r)["last_seq"].get<uint64_t>());
    EventStream events([&](const std::string& event, const std::string& data) {
      auto j = json::parse(data, nullptr, false);
      if (!j.is_object()) return;
      if (event.empty()) {
        printEntry(j, clustered);
      } else if (event == "unreachable") {
        auto note = unreachableNote(j);
        fmt::print(stderr, "{}\n", note.empty() ? "every up node answers again" : note);
      }
    });
    auto code = client_->stream("/functions/" + name_ + "/logs?follow=true&" + from, [&](std::string_view data) {
      events.feed(data);
      return true;
    });
    if (!code) return fail(code.error().message);
    return *code == 200 ? 0 : fail("the server refused to stream logs (HTTP " + std::to_string(*code) + ")");
  }

  int metrics() {
    auto r = api("GET", "/functions/" + name_ + "/metrics");
    if (!r) return 1;
    print(*r, [&] {
      fmt::print("{}", metricsTable(*r));
      if (auto note = unreachableNote(*r); !note.empty()) fmt::print(stderr, "{}\n", note);
    });
    return 0;
  }

  int exportVersion() {
    std::string v = version_;
    if (v.empty()) {
      auto f = api("GET", "/functions/" + name_);
      if (!f) return 1;
      if ((*f)["live"].is_null()) return fail("'" + name_ + "' has no live version; name one: fn0 export NAME v1 -o FILE", 2);
      v = (*f)["live"].get<std::string>();
    }
    auto r = client_->call("GET", "/functions/" + name_ + "/versions/" + v + "/component");
    if (!r) return fail(r.error().message);
    if (r->status != 200) {
      auto j = json::parse(r->body, nullptr, false);
      return fail(j.is_object() && j.contains("message") ? j["message"].get<std::string>() : "HTTP " + std::to_string(r->status));
    }
    std::ofstream out(file_, std::ios::binary);
    out.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    if (!out) return fail("cannot write " + file_);
    fmt::print(stderr, "wrote {} {} ({} bytes) to {}\n", name_, v, r->body.size(), file_);
    return 0;
  }

  int status() {
    auto r = api("GET", "/status");
    if (!r) return 1;
    // The cluster's nodes (a node without GET /cluster shows none).
    std::optional<json> cluster;
    if (auto c = client_->call("GET", "/cluster"); c && c->status == 200) {
      auto j = json::parse(c->body, nullptr, false);
      if (j.is_object()) cluster = std::move(j);
    }
    if (cluster) (*r)["cluster"] = *cluster;
    print(*r, [&] {
      fmt::print("fn0 {} (wasmtime {}) at {}:{}\n  functions: {}\n  uptime: {} s\n  cache: {} components, {} bytes\n",
                 (*r)["fn0"].get<std::string>(), (*r)["wasmtime"].get<std::string>(), client_->target().host,
                 client_->target().port, (*r)["functions"].get<int64_t>(), (*r)["uptime_s"].get<int64_t>(),
                 (*r)["cache"]["entries"].get<int64_t>(), (*r)["cache"]["bytes"].get<int64_t>());
      if (cluster) fmt::print("{}", clusterTable(*cluster));
    });
    return 0;
  }

  CLI::App *new_, *build_, *dev_, *login_, *deploy_, *list_, *info_, *versions_, *rollback_, *alias_, *delete_, *env_, *secret_, *logs_,
      *export_, *metrics_, *status_, *version_cmd_;
  std::unique_ptr<Client> client_;
  bool json_ = false, noLive_ = false, yes_ = false, follow_ = false;
  double since_ = 0;
  std::string server_, file_, name_, version_, action_, key_, template_ = "js", dir_ = ".";
  uint16_t port_ = 8787;
  std::vector<std::string> envs_, args_;
};

CommandSet::CommandSet(CLI::App& app) : impl_(std::make_unique<Commands>(app)) {}
CommandSet::~CommandSet() = default;
int CommandSet::run() { return impl_->run(); }

}  // namespace fn0::cli
