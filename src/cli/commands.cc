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

#include "cli/access_commands.h"
#include "cli/client.h"
#include "cli/config.h"
#include "cli/dev.h"
#include "cli/doctor.h"
#include "cli/files.h"
#include "cli/lang/language.h"
#include "cli/apply_config.h"
#include "cli/build.h"
#include "cli/input.h"
#include "cli/oidc_login.h"
#include "cli/output.h"
#include "cli/project.h"
#include "cli/settings.h"
#include "cli/views.h"
#include "common/percent_encode.h"
#include "common/time_text.h"
#include "common/version.h"
#include "registry/registry.h"
#include "runtime/engine.h"

namespace fn0::cli {

using nlohmann::json;

namespace {

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

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "[json.exception.type_error.302] type must be string" -> "type must be string".
std::string withoutLibraryTag(std::string what) {
  if (!what.empty() && what[0] == '[') {
    const auto close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  return what;
}

}  // namespace

class Commands {
 public:
  explicit Commands(CLI::App& app) {
    auto jsonFlag = [&](CLI::App* c) {
      c->add_flag("--json", json_, "Print machine-readable JSON on stdout (errors too: {\"error\", \"message\", \"status\"})");
    };

    login_ = app.add_subcommand("login", "Save the server URL and admin token this CLI uses");
    login_->add_option("--server", server_, "The node, e.g. http://127.0.0.1:8080")->required();
    login_->add_flag("--oidc", oidc_,
                     "Log in as a person through the node's OpenID provider: open the page it prints and enter the "
                     "code (a session of 12 hours)");
    login_->footer("The token is read from stdin or a prompt, never from the command line.\n"
                   "Example:\n  fn0 login --server http://127.0.0.1:8080 < /path/to/fn0/build/run-data/admin-token\n"
                   "  fn0 login --server https://fn0.example.com --oidc");
    jsonFlag(login_);

    new_ = app.add_subcommand("new", "Create a project from a template");
    new_->add_option("name", name_, "Function name (also the folder)")->required();
    std::vector<std::string> langs;
    for (const auto& l : languages()) langs.push_back(l.name);
    new_->add_option("--template,-t", template_, languageNames())->capture_default_str()->check(CLI::IsMember(langs));
    new_->add_option("--dir", file_, "Folder to create (default: NAME)");
    new_->footer("Example:\n  fn0 new hello --template ts && cd hello && fn0 dev");
    jsonFlag(new_);

    build_ = app.add_subcommand("build", "Build the project in this folder (fn0.toml)");
    build_->add_option("--dir", dir_, "Project folder")->capture_default_str();
    build_->add_option("--build-dir", buildDir_, "Where intermediate files and the component go (default: the "
                       "project's build/ and its fn0.toml output)");
    build_->footer("The tools' output goes to stderr; stdout gets the component's path (or JSON).\n"
                   "Example:\n  fn0 build");
    jsonFlag(build_);

    dev_ = app.add_subcommand("dev", "Build, serve locally, rebuild and reload on change, print logs");
    dev_->add_option("--dir", dir_, "Project folder")->capture_default_str();
    dev_->add_option("--port", port_, "Local port")->capture_default_str();
    dev_->footer("Example:\n  fn0 dev --port 8787");

    deploy_ = app.add_subcommand("deploy", "Deploy a component (or a project) as a new version");
    deploy_->add_option("file", file_,
                        "The component (.wasm), or a project folder; without it the project in --dir is built and "
                        "deployed")
        ->check(CLI::ExistingPath);
    deploy_->add_option("--dir", dir_, "Project folder (when no file is given)")->capture_default_str();
    deploy_->add_option("--name", name_, "Function name (default: the project's, or made from the file name)");
    deploy_->add_option("--env", envs_, "KEY=VALUE environment variable (repeatable)");
    deploy_->add_flag("--no-live", noLive_, "Create the version without moving live to it");
    deploy_->footer("In a project folder the node is checked first, then the project is built, uploaded and\n"
                    "compiled on the node; progress goes to stderr.\n"
                    "Examples:\n  fn0 deploy                       # the project in this folder (fn0.toml)\n"
                    "  fn0 deploy build/examples/hello-js.wasm --name hello --env MODE=prod");
    jsonFlag(deploy_);

    list_ = app.add_subcommand("list", "List functions");
    list_->footer("Example:\n  fn0 list --json");
    jsonFlag(list_);

    info_ = app.add_subcommand("info", "Show a function: versions, aliases, env, secret names, settings");
    info_->add_option("name", name_)->required();
    info_->footer("Example:\n  fn0 info hello");
    jsonFlag(info_);

    versions_ = app.add_subcommand("versions", "List a function's versions (the live one marked *, dates, aliases)");
    versions_->add_option("name", name_)->required();
    versions_->footer("Dates are in this machine's time zone; --json gives created_at in Unix seconds.\n"
                      "Example:\n  fn0 versions hello");
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
    delete_->add_flag("--delete-data", deleteData_, "Also delete its key-value data (without asking)");
    delete_->add_flag("--keep-data", keepData_, "Keep its key-value data (a function of the same name sees it again)");
    delete_->footer("Example:\n  fn0 delete hello --yes --delete-data");
    jsonFlag(delete_);

    kv_ = app.add_subcommand("kv", "Read and write a function's key-value bucket; export and import it");
    kv_->add_option("name", name_)->required();
    kv_->add_option("action", action_, "get | set | delete | list | export | import")
        ->required()
        ->check(CLI::IsMember({"get", "set", "delete", "list", "export", "import"}));
    kv_->add_option("args", args_, "get KEY | set KEY [VALUE] | delete KEY | import FILE");
    kv_->add_option("--prefix", prefix_, "list: only keys starting with this");
    kv_->add_option("--file,-f", file_, "set: the value from this file ('-': stdin); get, export: write it here");
    kv_->footer("Examples:\n  fn0 kv hello list --prefix user/\n  fn0 kv hello set greeting 'hi there'\n"
                "  fn0 kv hello get greeting\n  fn0 kv hello export -f backup.jsonl\n  fn0 kv hello import backup.jsonl");
    jsonFlag(kv_);

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

    settings_ = app.add_subcommand("settings", "Show or change a function's limits and outbound allow-list");
    settings_->add_option("name", name_)->required();
    settings_->add_option("changes", args_, "KEY=VALUE... (KEY= puts one back to the node's value)");
    settings_->add_flag("--reset", reset_, "Put every setting back to the node's value");
    settings_->footer(
        "Settings: cpu_ms, duration_ms, memory_mb, max_subrequests, reuse_instance_requests, instance_concurrency,\n"
        "max_concurrency "
        "(whole numbers) and allow (CIDRs, optionally :PORT, comma-separated). They only tighten the node's\n"
        "limits: a value above the node's maximum is lowered to it. Other settings are kept when one changes.\n"
        "Examples:\n"
        "  fn0 settings hello                                  # each setting and the value in effect\n"
        "  fn0 settings hello cpu_ms=50 memory_mb=64\n"
        "  fn0 settings hello allow=127.0.0.1/32:8080,10.0.0.0/8:443\n"
        "  fn0 settings hello cpu_ms=                          # back to the node's value\n"
        "  fn0 settings hello --reset                          # all back to the node's values");
    jsonFlag(settings_);

    logs_ = app.add_subcommand("logs", "Show a function's output (with request ids; in a cluster, every node's)");
    logs_->add_option("name", name_)->required();
    logs_->add_flag("--follow,-f", follow_, "Keep printing new lines");
    logs_->add_option("--since", since_,
                      "Only lines from then on: a duration before now (90s, 15m, 1h, 2d), an RFC 3339 time "
                      "(2026-12-06T10:00:00Z) or unix seconds (a bare number under 1e9: that many seconds ago)")
        ->check(timeValidator("--since"));
    logs_->add_option("--until", until_, "Only lines before then (the same forms as --since)")
        ->check(timeValidator("--until"));
    logs_->add_option("--request-id", requestId_, "Only the lines of this request (its fn0-request-id)");
    logs_->add_option("--grep", grep_, "Only lines containing this text (case-sensitive)");
    logs_->add_option("--tail,-n", tail_,
                      "The newest N lines (default 1000 without --since, --until, --request-id or --grep; with them, "
                      "every matching line unless --tail is given)");
    logs_->footer("Lines are kept on each node's disk and survive restarts (for --log-retention-mb and\n"
                  "--log-retention-hours, see `fn0 serve --help`).\n"
                  "Each line: local time, version, request id, '!' for stderr, the line; in a cluster each line\n"
                  "starts with the node that wrote it. --json prints one JSON object per line.\n"
                  "With --follow, fn0 exits with code 1 and says so when the node closes the stream or goes away\n"
                  "(it stopped or restarted); run it again to go on, e.g. `until fn0 logs hello -f; do sleep 1; done`.\n"
                  "Examples:\n  fn0 logs hello --follow\n  fn0 logs hello --since 1h --grep timeout\n"
                  "  fn0 logs hello --request-id 0b6e3c...   # one request's lines, also after a restart");
    jsonFlag(logs_);

    export_ = app.add_subcommand("export", "Download a version's original component");
    export_->add_option("name", name_)->required();
    export_->add_option("version", version_, "Default: the live version");
    export_->add_option("-o,--output", file_, "Where to write it")->required();
    export_->footer("Example:\n  fn0 export hello v2 -o hello-v2.wasm");
    jsonFlag(export_);

    metrics_ = app.add_subcommand("metrics", "Show a function's request counters (summed over a cluster's nodes)");
    metrics_->add_option("name", name_)->required();
    metrics_->footer("Example:\n  fn0 metrics hello");
    jsonFlag(metrics_);

    status_ = app.add_subcommand("status", "Show the node's status (and the cluster's nodes)");
    status_->footer("Example:\n  fn0 status");
    jsonFlag(status_);

    gc_ = app.add_subcommand("gc", "Delete versions beyond the node's retention and code no version uses");
    gc_->add_flag("--dry-run", dryRun_, "Only show what would be deleted");
    gc_->footer("Keeps the newest --keep-versions of each function (a node flag, default 20) and every version\n"
                "an alias names; then deletes the stored components and compiled artifacts no version of any\n"
                "function uses, unless written within --gc-grace-s (default an hour). Every node of a cluster\n"
                "also sweeps its local copies. Exit code 1 when something could not be deleted.\n"
                "Examples:\n  fn0 gc --dry-run\n  fn0 gc --json");
    jsonFlag(gc_);

    doctor_ = app.add_subcommand("doctor", "Check which languages this machine can build, and how to fix the others");
    doctor_->footer("Exit code 0 when every language is ready, 1 when one is not.\nExample:\n  fn0 doctor");
    jsonFlag(doctor_);

    access_.add(app, jsonFlag);

    version_cmd_ = app.add_subcommand("version", "Print fn0's version and the wasmtime it embeds");
    version_cmd_->footer("Example:\n  fn0 version --json");
    jsonFlag(version_cmd_);
  }

  // No exception leaves: one that escapes a command (an answer of an
  // unexpected shape, a file system error) becomes a sentence.
  int run() {
    try {
      return dispatch();
    } catch (const json::exception& e) {
      progress_ = nullptr;  // gone with the command's stack
      return fail(Failure{"bad-answer",
                          "the node's answer is not what this fn0 expects (" + withoutLibraryTag(e.what()) +
                              "): are the CLI and the node the same version? Compare `fn0 version` and `fn0 status`"});
    } catch (const std::filesystem::filesystem_error& e) {
      progress_ = nullptr;
      return fail(Failure{"io", "cannot use " + e.path1().string() + ": " + e.code().message()});
    } catch (const std::exception& e) {
      progress_ = nullptr;
      return fail(Failure{"internal", withoutLibraryTag(e.what())});
    }
  }

 private:
  int fail(const Failure& f) {
    if (progress_) progress_->abandon();
    return report(f, json_);
  }
  int fail(const std::string& msg, int code = kExitFailure) {
    return fail(Failure{code == kExitUsage ? "usage" : "failed", msg, 0, code});
  }
  int fail(const Error& e, int code = kExitFailure) {
    return fail(Failure{e.code.empty() ? (code == kExitUsage ? "usage" : "failed") : e.code, e.message, 0, code});
  }

  int dispatch() {
    if (version_cmd_->parsed()) {
      if (json_)
        fmt::print("{}\n", json{{"fn0", kVersion}, {"wasmtime", runtime::wasmtimeVersion()}}.dump());
      else
        fmt::print("fn0 {} (wasmtime {})\n", kVersion, runtime::wasmtimeVersion());
      return 0;
    }
    if (login_->parsed()) return login();
    if (doctor_->parsed()) return runDoctor(json_);
    if (new_->parsed()) {
      if (auto bad = checkFunctionName(name_); !bad) return fail(bad.error(), kExitUsage);
      std::filesystem::path dir = file_.empty() ? std::filesystem::path(name_) : std::filesystem::path(file_);
      if (auto r = newProject(name_, template_, dir); !r) return fail(r.error().message, 2);
      print(json{{"created", name_}, {"template", template_}, {"dir", std::filesystem::absolute(dir).lexically_normal().string()}}, [&] {
        fmt::print("created {} ({} template) in {}/\nnext:\n  cd {}\n  fn0 dev        # serve locally, rebuild on change\n  fn0 deploy     # deploy to your node\n",
                   name_, template_, dir.string(), dir.string());
      });
      return 0;
    }
    if (build_->parsed() || dev_->parsed()) {
      auto p = Project::load(dir_);
      if (!p) return fail(p.error().message);
      if (dev_->parsed()) return runDev(*p, port_);
      if (!buildDir_.empty()) p->buildDir = std::filesystem::absolute(buildDir_);
      Progress progress(live());
      progress_ = &progress;
      progress.begin("building " + p->name + " (" + p->language + ")");
      auto out = buildProject(*p);
      if (!out) return fail(Failure{out.error().code.empty() ? "build-failed" : out.error().code, out.error().message});
      progress.end("built " + p->name);
      std::error_code ec;
      auto shown = std::filesystem::relative(*out, ec);
      if (ec || shown.empty()) shown = *out;
      print(json{{"built", std::filesystem::absolute(*out).lexically_normal().string()}, {"function", p->name}},
            [&] { fmt::print("built {}\n", shown.string()); });
      return 0;
    }
    if (access_.parsed()) {
      auto client = connect();
      if (!client) return fail(client.error());
      client_ = std::make_unique<Client>(std::move(client).value());
      return access_.run([&](const std::string& m, const std::string& path, const std::string& body) {
        return api(m, path, body, body.empty() ? "" : "application/json");
      }, [&](const json& j, const std::function<void()>& human) { print(j, human); },
      [&](const std::string& message) { return fail(message, kExitUsage); });
    }
    for (CLI::App* c : {deploy_, list_, info_, versions_, rollback_, alias_, delete_, env_, secret_, settings_, logs_,
                        export_, metrics_, status_, kv_, gc_})
      if (c->parsed()) {
        if (c != deploy_ && c != list_ && c != status_ && c != gc_)
          if (auto bad = checkFunctionName(name_); !bad) return fail(bad.error(), kExitUsage);
        auto client = connect();
        if (!client) return fail(client.error());
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
        if (c == settings_) return settings();
        if (c == logs_) return logs();
        if (c == export_) return exportVersion();
        if (c == metrics_) return metrics();
        if (c == status_) return status();
        if (c == kv_) return kvCommand();
        if (c == gc_) return collectGarbage();
      }
    return -1;
  }

  // Progress is redrawn on a terminal; with --json or into a pipe, a line per phase.
  bool live() const { return ::isatty(2) != 0 && !json_; }

  Result<Client> connect() {
    auto cfg = loadConfig();
    if (cfg.server.empty())
      return Error{"no fn0 node configured: run `fn0 login --server URL` (or set FN0_SERVER and FN0_TOKEN)", "no-server"};
    auto target = Target::parse(cfg.server);
    if (!target) return Error{target.error().message + " (FN0_SERVER or `fn0 login --server URL`)", "bad-server"};
    return Client(*target, cfg.token);
  }

  // What a failed call tells the user: why it got no answer, or the node's
  // own error (its `error` code and `message`, with the HTTP status).
  Failure callFailure(const Result<Reply>& r) const {
    const std::string url = client_->target().url();
    if (!r) return Failure{r.error().code.empty() ? "unreachable" : r.error().code, r.error().message};
    const Reply& reply = r.value();
    if (reply.status == 401)
      return Failure{"unauthorized",
                     "the node at " + url + " rejected the admin token (401): run `fn0 login --server " + url +
                         "` with a valid one (or set FN0_TOKEN)",
                     401};
    auto j = json::parse(reply.body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      return Failure{j.value("error", "failed"), j["message"].get<std::string>(), reply.status};
    return Failure{"bad-answer",
                   "the server at " + url + " answered HTTP " + std::to_string(reply.status) +
                       " without an fn0 error: is it an fn0 node? (check FN0_SERVER or `fn0 login`)",
                   reply.status};
  }

  // Calls the API; on failure prints why and returns nullopt (exit code 1).
  std::optional<json> api(const std::string& method, const std::string& path, const std::string& body = {},
                          const std::string& type = {},
                          const std::function<void(uint64_t, uint64_t)>& progress = {}) {
    auto r = client_->call(method, path, body, type, progress);
    if (!r || r->status >= 300) {
      fail(callFailure(r));
      return std::nullopt;
    }
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) {
      fail(Failure{"bad-answer",
                   "the server at " + client_->target().url() +
                       " answered with something that is not JSON: is it an fn0 node? (check FN0_SERVER or `fn0 login`)",
                   r->status});
      return std::nullopt;
    }
    return j;
  }

  void print(const json& j, const std::function<void()>& human) {
    if (json_)
      fmt::print("{}\n", j.dump(2, ' ', false, json::error_handler_t::replace));
    else
      human();
  }

  int login() {
    auto target = Target::parse(server_);
    if (!target) return fail(target.error().message, 2);
    if (oidc_) return loginOidc(*target);
    std::string token = readSecretValue("admin token: ");
    if (token.empty()) return fail("no token given (pipe it to stdin or type it at the prompt)", 2);
    client_ = std::make_unique<Client>(*target, token);
    if (!api("GET", "/status")) return 1;
    if (auto s = saveConfig({server_, token}); !s) return fail(Failure{"io", s.error().message});
    print(json{{"server", server_}, {"config", configPath().string()}},
          [&] { fmt::print("logged in to {} (saved in {})\n", server_, configPath().string()); });
    return 0;
  }

  // The device login through the node; the session it gets is kept like
  // a token (the node tells the two apart by their prefix).
  int loginOidc(const Target& target) {
    client_ = std::make_unique<Client>(target, "");
    auto done = deviceLogin(*client_, [](const std::string& url, const std::string& code) {
      // stderr: stdout stays the result (--json), and the person reads this now.
      fmt::print(stderr, "To log in, open {}\nand check that it shows the code {}\n", url, code);
      fmt::print(stderr, "waiting for the sign-in...\n");
    });
    if (!done) {
      const Error& e = done.error();
      return fail(Failure{e.code.empty() ? "failed" : e.code, e.message});
    }
    if (auto s = saveConfig({server_, done->token}); !s) return fail(Failure{"io", s.error().message});
    print(json{{"server", server_}, {"config", configPath().string()}, {"subject", done->subject},
               {"role", done->role}, {"expires_at", done->expiresAt}},
          [&] {
            fmt::print("logged in to {} as {} ({}) until {} (saved in {})\n", server_, done->subject, done->role,
                       localTime(static_cast<double>(done->expiresAt), false, unixNow()), configPath().string());
          });
    return 0;
  }

  int deploy() {
    std::optional<Project> project;
    // A project folder (or its fn0.toml) given as the file: that project.
    if (!file_.empty() &&
        (std::filesystem::is_directory(file_) || std::filesystem::path(file_).filename() == "fn0.toml")) {
      dir_ = std::filesystem::is_directory(file_) ? file_ : std::filesystem::path(file_).parent_path().string();
      if (dir_.empty()) dir_ = ".";
      file_.clear();
    }
    if (!name_.empty())
      if (auto bad = checkFunctionName(name_); !bad) return fail(bad.error(), kExitUsage);
    Progress progress(live());
    progress_ = &progress;
    if (file_.empty()) {
      auto p = Project::load(dir_);
      if (!p) return fail(p.error().message + " (or give a .wasm file)", 2);
      // The node first: a build takes seconds, a refused token should not.
      if (!api("GET", "/status")) return 1;
      progress.begin("building " + p->name + " (" + p->language + ")");
      auto out = buildProject(*p);
      if (!out) return fail(Failure{out.error().code.empty() ? "build-failed" : out.error().code, out.error().message});
      progress.end("built " + p->name);
      file_ = out->string();
      if (name_.empty()) name_ = p->name;
      p->name = name_;
      project = *p;
    } else if (auto bad = checkComponentFile(file_); !bad) {
      return fail(bad.error(), bad.error().code == "source-file" ? kExitUsage : kExitFailure);
    }
    if (name_.empty()) {
      const std::string from = std::filesystem::path(file_).filename().string();
      name_ = normalizeName(std::filesystem::path(file_).stem().string());
      if (name_.empty())
        return fail(Failure{"invalid-name",
                            "cannot make a function name from " + from + ": choose one with --name (" +
                                registry::kFunctionNameRule + ")",
                            0, kExitUsage});
      fmt::print(stderr, "function name: {} (from {}; --name to choose)\n", name_, from);
    }
    std::vector<std::pair<std::string, std::string>> env;
    for (const auto& e : envs_) {
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0) return fail("--env needs KEY=VALUE, got '" + e + "'", 2);
      env.emplace_back(e.substr(0, eq), e.substr(eq + 1));
    }
    std::ifstream in(file_, std::ios::binary);
    std::string wasm{std::istreambuf_iterator<char>(in), {}};
    if (!in.good() && !in.eof()) return fail(Failure{"io", "cannot read " + file_});
    progress.begin("uploading " + name_ + " (" + sizeText(wasm.size()) + ")");
    bool compiling = false;
    auto onBytes = [&](uint64_t done, uint64_t total) {
      progress.bytes(done, total);
      if (done == total && !compiling) {
        compiling = true;
        progress.end("uploaded " + sizeText(total));
        progress.begin("compiling " + name_ + " on the node");
      }
    };
    // A project's fn0.toml ([vars], [settings]) is applied before live moves.
    const bool holdLive = noLive_ || project;
    auto r = api("POST", "/functions/" + name_ + "/versions" + (holdLive ? "?live=false" : ""), wasm,
                 "application/wasm", onBytes);
    if (!r) return 1;
    progress.end((*r)["created"].get<bool>() ? "compiled" : "checked");
    if (project) {
      if (auto c = applyProjectConfig(*client_, *project); !c) return fail(Failure{"config", c.error().message});
      if (!noLive_) {
        const json to = {{"version", (*r)["version"]}};
        if (!api("PUT", "/functions/" + name_ + "/aliases/live", to.dump(), "application/json")) return 1;
        (*r)["live"] = true;
        // The node named the version's URLs only (it was not live then): the live ones follow from them.
        json& urls = (*r)["urls"];
        const std::string version = (*r)["version"].get<std::string>();
        if (urls.contains("path")) {
          const std::string path = urls["path"].get<std::string>();
          if (auto at = path.rfind("@" + version + "/"); at != std::string::npos) urls["live_path"] = path.substr(0, at) + "/";
        }
        if (urls.contains("version")) {
          const std::string host = urls["version"].get<std::string>(), prefix = "http://" + version + ".";
          if (host.rfind(prefix, 0) == 0) urls["live"] = "http://" + host.substr(prefix.size());
        }
      }
    }
    for (const auto& [k, v] : env)
      if (!api("PUT", "/functions/" + name_ + "/env/" + k, json{{"value", v}}.dump(), "application/json")) return 1;
    progress_ = nullptr;
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
      const double now = unixNow();
      fmt::print("{}  live: {}\n", (*r)["name"].get<std::string>(), (*r)["live"].is_null() ? "-" : (*r)["live"].get<std::string>());
      for (const auto& [k, v] : (*r)["aliases"].items()) fmt::print("  alias    {} -> {}\n", k, v.get<std::string>());
      for (const auto& v : (*r)["versions"])
        fmt::print("  version  {} {} sha256:{} {}\n", v["version"].get<std::string>(), sizeText(v["size"].get<uint64_t>()),
                   v["hash"].get<std::string>().substr(0, 12), localTime(v.value("created_at", 0.0), false, now));
      for (const auto& [k, v] : (*r)["env"].items()) fmt::print("  env      {}={}\n", k, v.get<std::string>());
      for (const auto& s : (*r)["secrets"]) fmt::print("  secret   {}\n", s.get<std::string>());
      const json settings = r->contains("settings") ? (*r)["settings"] : json::object();
      fmt::print("  settings {} (`fn0 settings {}` for the values in effect)\n", settingsSummary(settings), name_);
    });
    return 0;
  }

  int versions() {
    auto r = api("GET", "/functions/" + name_);
    if (!r) return 1;
    const json listed = versionsWithAliases(*r);
    print(listed, [&] { fmt::print("{}", versionsTable(listed, unixNow())); });
    return 0;
  }

  int rollback() {
    std::string target = version_;
    if (target.empty()) {
      auto f = api("GET", "/functions/" + name_);
      if (!f) return 1;
      if ((*f)["live"].is_null()) return fail(Failure{"no-live", "'" + name_ + "' has no live version to roll back from"});
      int64_t live = std::stoll((*f)["live"].get<std::string>().substr(1)), prev = 0;
      for (const auto& v : (*f)["versions"])
        if (v["number"].get<int64_t>() < live) prev = std::max(prev, v["number"].get<int64_t>());
      if (!prev) return fail(Failure{"no-earlier-version", "'" + name_ + "' has no version before v" + std::to_string(live)});
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
      if (!::isatty(0) || json_)
        return fail("refusing to delete '" + name_ + "' without --yes (no terminal to ask)", 2);
      fmt::print(stderr, "delete '{}' and all its versions? [y/N] ", name_);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "yes") return fail(Failure{"cancelled", "not deleted"});
    }
    if (deleteData_ && keepData_) return fail("--delete-data and --keep-data exclude each other", 2);
    std::string choice = deleteData_ ? "?kv=delete" : keepData_ ? "?kv=keep" : "";
    auto first = client_->call("DELETE", "/functions/" + name_ + choice);
    if (first && first->status == 409 && choice.empty()) {
      // It has key-value data: ask, or say how to choose.
      const std::string what = callFailure(first).message;
      if (!::isatty(0) || json_ || yes_)
        return fail(Failure{"has-data", what + " (fn0 delete: --delete-data or --keep-data)", 409});
      fmt::print(stderr, "{}\ndelete that data too? [y/N] ", what);
      std::string answer;
      std::getline(std::cin, answer);
      choice = answer == "y" || answer == "yes" ? "?kv=delete" : "?kv=keep";
      first = client_->call("DELETE", "/functions/" + name_ + choice);
    }
    if (!first || first->status >= 300) return fail(callFailure(first));
    const json r = json::parse(first->body, nullptr, false);
    print(r, [&] {
      fmt::print("deleted {}{}\n", name_, choice == "?kv=delete" ? " and its key-value data"
                                          : choice == "?kv=keep"  ? " (its key-value data is kept)"
                                                                  : "");
    });
    return 0;
  }

  // fn0 kv NAME get|set|delete|list|export|import (docs/kv.md).
  int kvCommand() {
    const std::string base = "/functions/" + name_ + "/kv";
    auto keyPath = [&](const std::string& k) { return base + "/" + percentEncode(k); };
    auto writeOut = [&](const std::string& bytes) {
      if (file_.empty() || file_ == "-") {
        fwrite(bytes.data(), 1, bytes.size(), stdout);
        return true;
      }
      std::ofstream out(file_, std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      return static_cast<bool>(out);
    };
    const bool needsKey = action_ == "get" || action_ == "set" || action_ == "delete";
    if (needsKey && args_.empty()) return fail("usage: fn0 kv NAME " + action_ + " KEY" + (action_ == "set" ? " [VALUE]" : ""), 2);
    if (action_ == "get") {
      auto r = client_->call("GET", keyPath(args_[0]));
      if (!r || r->status != 200) return fail(callFailure(r));
      if (!writeOut(r->body)) return fail(Failure{"io", "cannot write " + file_});
      return 0;
    }
    if (action_ == "set") {
      std::string value;
      if (args_.size() > 1) {
        value = args_[1];
      } else if (file_ == "-" || (file_.empty() && !::isatty(0))) {
        value.assign(std::istreambuf_iterator<char>(std::cin), {});
      } else if (!file_.empty()) {
        if (!std::filesystem::is_regular_file(file_)) return fail(Failure{"io", "cannot read " + file_});
        value = readFile(file_);
      } else {
        return fail("usage: fn0 kv NAME set KEY VALUE (or --file FILE, or the value on stdin)", 2);
      }
      auto r = api("PUT", keyPath(args_[0]), value, "application/octet-stream");
      if (!r) return 1;
      print(*r, [&] { fmt::print("set {} ({})\n", args_[0], sizeText(value.size())); });
      return 0;
    }
    if (action_ == "delete") {
      auto r = api("DELETE", keyPath(args_[0]));
      if (!r) return 1;
      print(*r, [&] { fmt::print("deleted {}\n", args_[0]); });
      return 0;
    }
    if (action_ == "list") {
      json keys = json::array(), usage;
      std::string after;
      for (;;) {
        auto r = api("GET", base + "?limit=1000&prefix=" + percentEncode(prefix_) + "&after=" + percentEncode(after));
        if (!r) return 1;
        for (auto& k : (*r)["keys"]) keys.push_back(k);
        usage = (*r)["usage"];
        if ((*r)["next"].is_null()) break;
        after = (*r)["next"].get<std::string>();
      }
      print(json{{"function", name_}, {"keys", keys}, {"usage", usage}}, [&] {
        for (const auto& k : keys) fmt::print("{}\t{}\n", k["key"].get<std::string>(), sizeText(k["bytes"].get<uint64_t>()));
        fmt::print(stderr, "{} of {} keys, {} in all\n", keys.size(), usage["keys"].get<uint64_t>(),
                   sizeText(usage["bytes"].get<uint64_t>()));
      });
      return 0;
    }
    if (action_ == "export") {
      auto r = client_->call("GET", "/functions/" + name_ + "/kv-export");
      if (!r || r->status != 200) return fail(callFailure(r));
      if (!writeOut(r->body)) return fail(Failure{"io", "cannot write " + file_});
      return 0;
    }
    // import FILE (or - / stdin)
    std::string lines;
    const std::string from = args_.empty() ? "-" : args_[0];
    if (from == "-") {
      lines.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      if (!std::filesystem::is_regular_file(from)) return fail(Failure{"io", "cannot read " + from});
      lines = readFile(from);
    }
    auto r = api("POST", "/functions/" + name_ + "/kv-import", lines, "application/x-ndjson");
    if (!r) return 1;
    print(*r, [&] { fmt::print("imported {} entries into {}\n", (*r)["imported"].get<uint64_t>(), name_); });
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

  // The node's defaults and maxima for a function (GET /status), null if
  // it does not say (an older node) or cannot be asked.
  json functionLimits() {
    auto r = client_->call("GET", "/status");
    if (!r || r->status != 200) return nullptr;
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("function_limits") ? j["function_limits"] : json();
  }

  // PUT replaces the whole object: the edits are applied to what the node
  // holds, so the settings not named keep their values.
  int settings() {
    const bool change = reset_ || !args_.empty();
    if (auto checked = applySettingEdits(json::object(), args_); !checked) return fail(checked.error(), kExitUsage);
    auto current = api("GET", "/functions/" + name_ + "/settings");
    if (!current) return 1;
    json stored = *current;
    json changed = json::array();
    if (change) {
      auto next = applySettingEdits(reset_ ? json::object() : *current, args_);
      if (!next) return fail(next.error(), kExitUsage);
      auto put = api("PUT", "/functions/" + name_ + "/settings", next->dump(), "application/json");
      if (!put) return 1;
      stored = *put;
      for (const auto& k : settingNames())
        if (current->value(k, json()) != stored.value(k, json())) changed.push_back(k);
    }
    const json limits = functionLimits();
    json out = {{"function", name_}, {"settings", stored}, {"effective", effectiveSettings(stored, limits)},
                {"node", limits}};
    if (change) out["changed"] = changed;
    print(out, [&] {
      if (change) {
        if (changed.empty()) fmt::print("{}: nothing changed\n", name_);
        for (const auto& k : changed) {
          const std::string key = k.get<std::string>();
          auto shown = [&](const json& s) { return s.contains(key) ? settingsSummary(json{{key, s[key]}}).substr(key.size() + 1) : "-"; };
          fmt::print("{}: {} {} -> {}\n", name_, key, shown(*current), shown(stored));
        }
      }
      fmt::print("{}", settingsTable(name_, stored, limits));
    });
    return 0;
  }

  void printEntry(const json& e, bool withNode) {
    if (json_)
      fmt::print("{}\n", e.dump(-1, ' ', false, json::error_handler_t::replace));
    else
      fmt::print("{}\n", logLine(e, withNode, unixNow()));
    std::fflush(stdout);
  }

  // --since and --until as the command line is parsed: a mistake is a
  // usage error (exit 2) before anything is asked of the node.
  static CLI::Validator timeValidator(std::string flag) {
    return CLI::Validator(
        [flag](std::string& text) -> std::string {
          if (parseTimeMicros(logTimeParam(text), 0)) return "";
          return "'" + text + "' is not a valid value for " + flag +
                 ": use a duration before now (90s, 15m, 1h, 2d), an RFC 3339 time (2026-12-06T10:00:00Z) or unix "
                 "seconds";
        },
        "TIME");
  }
  // A bare number is seconds ago, as --since always took; a larger one
  // (from 1e9: 2001 on) is unix seconds, as the API reads it.
  static std::string logTimeParam(std::string text) {
    if (!text.empty() && text.size() < 10 && text.find_first_not_of("0123456789") == std::string::npos) text += "s";
    return text;
  }

  // The lines asked for (every node's, in a cluster): the newest --tail,
  // or every matching one page by page; then with --follow the new ones as
  // they come, from where the pages ended, until the node ends the stream
  // or goes away (exit 1, said on stderr).
  int logs() {
    const std::string since = logTimeParam(since_), until = logTimeParam(until_);
    // Checked as the command line was parsed (timeValidator).
    std::optional<int64_t> sinceUs;
    if (!since.empty()) sinceUs = parseTimeMicros(since, static_cast<int64_t>(unixNow() * 1e6));
    std::string filters;
    if (!since.empty()) filters += "&since=" + percentEncode(since);
    if (!until.empty()) filters += "&until=" + percentEncode(until);
    if (!requestId_.empty()) filters += "&request_id=" + percentEncode(requestId_);
    if (!grep_.empty()) filters += "&q=" + percentEncode(grep_);
    const size_t tail = tail_ ? std::min<size_t>(tail_, 10000) : (filters.empty() ? 1000 : 0);
    const std::string base = "/functions/" + name_ + "/logs";
    bool clustered = false;
    size_t shown = 0;
    std::string cursor;
    std::optional<uint64_t> lastSeq;  // a node before cursors gives its last seq only
    for (int page = 0;; page++) {
      const std::string target = tail ? base + "?tail=true&limit=" + std::to_string(tail) + filters
                                      : base + "?limit=10000" + filters +
                                            (cursor.empty() ? "" : "&cursor=" + percentEncode(cursor));
      auto r = api("GET", target);
      if (!r) return 1;
      clustered = r->value("clustered", false);
      for (const auto& e : (*r)["entries"]) {
        // A node from before since= was understood sends every line.
        if (sinceUs && e["time"].get<double>() * 1e6 < static_cast<double>(*sinceUs)) continue;
        printEntry(e, clustered), shown++;
      }
      if (page == 0)
        if (auto note = unreachableNote(*r); !note.empty()) fmt::print(stderr, "{}\n", note);
      if (r->contains("cursor")) cursor = (*r)["cursor"].get<std::string>();
      else if (r->contains("last_seq")) lastSeq = (*r)["last_seq"].get<uint64_t>();
      if (tail || !r->value("more", false) || !r->contains("cursor")) break;
    }
    if (!shown && !json_)
      fmt::print(stderr, "no {} from {}{}\n", filters.empty() ? "output" : "matching lines", name_,
                 follow_ ? " yet; waiting for new lines (Ctrl-C stops)" : "");
    if (!follow_) return 0;
    const std::string from = !cursor.empty() || !lastSeq ? "cursor=" + percentEncode(cursor)
                                                         : "after=" + std::to_string(*lastSeq);
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
    auto end = client_->stream(base + "?follow=true&" + from + filters, [&](std::string_view data) {
      events.feed(data);
      return true;
    });
    if (!end) return fail(end.error());
    const std::string url = client_->target().url();
    if (end->status == 401) return fail(callFailure(Reply{401, {}, {}}));
    if (end->status != 200)
      return fail(Failure{"stream-refused", "the node at " + url + " refused to stream logs (HTTP " +
                                                std::to_string(end->status) + ")", end->status});
    const std::string again = "; run `fn0 logs " + name_ + " --follow` again to go on";
    if (end->finished)
      return fail(Failure{"stream-ended", "the node at " + url + " closed the log stream (it is stopping)" + again});
    return fail(Failure{"stream-ended", "the node at " + url + " went away (" + end->lost + ")" + again});
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
    if (!r || r->status != 200) return fail(callFailure(r));
    std::ofstream out(file_, std::ios::binary);
    out.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    if (!out) return fail(Failure{"io", "cannot write " + file_});
    print(json{{"function", name_}, {"version", v}, {"bytes", r->body.size()}, {"file", std::filesystem::absolute(file_).lexically_normal().string()}},
          [&] { fmt::print(stderr, "wrote {} {} ({}) to {}\n", name_, v, sizeText(r->body.size()), file_); });
    return 0;
  }

  int collectGarbage() {
    auto r = api("POST", std::string("/gc?dry_run=") + (dryRun_ ? "true" : "false"));
    if (!r) return 1;
    print(*r, [&] { fmt::print("{}", gcSummary(*r)); });
    const bool failures = !(*r)["failures"].empty();
    return failures ? 1 : 0;
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
      fmt::print("fn0 {} (wasmtime {}) at {}\n  functions: {}\n  uptime: {} s\n  cache: {} components, {}\n",
                 (*r)["fn0"].get<std::string>(), (*r)["wasmtime"].get<std::string>(), client_->target().url(),
                 (*r)["functions"].get<int64_t>(), (*r)["uptime_s"].get<int64_t>(),
                 (*r)["cache"]["entries"].get<int64_t>(), sizeText((*r)["cache"]["bytes"].get<uint64_t>()));
      if (cluster) fmt::print("{}", clusterTable(*cluster));
    });
    return 0;
  }

  CLI::App *new_, *build_, *dev_, *login_, *deploy_, *list_, *info_, *versions_, *rollback_, *alias_, *delete_, *env_, *secret_,
      *settings_, *logs_, *export_, *metrics_, *status_, *version_cmd_, *doctor_, *kv_, *gc_;
  std::unique_ptr<Client> client_;
  AccessCommands access_;
  Progress* progress_ = nullptr;  // the phase in progress, ended before a failure is printed
  bool json_ = false, noLive_ = false, yes_ = false, follow_ = false, reset_ = false, deleteData_ = false,
       keepData_ = false, dryRun_ = false, oidc_ = false;
  std::string since_, until_, requestId_, grep_;
  size_t tail_ = 0;
  std::string server_, file_, name_, version_, action_, key_, template_ = "js", dir_ = ".", buildDir_, prefix_;
  uint16_t port_ = 8787;
  std::vector<std::string> envs_, args_;
};

CommandSet::CommandSet(CLI::App& app) : impl_(std::make_unique<Commands>(app)) {}
CommandSet::~CommandSet() = default;
int CommandSet::run() { return impl_->run(); }

}  // namespace fn0::cli
