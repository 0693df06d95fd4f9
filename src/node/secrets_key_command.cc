#include "node/secrets_key_command.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <cstdlib>
#include <optional>

#include "registry/registry.h"
#include "registry/secret_keys.h"

namespace fn0::node {

using nlohmann::json;

CLI::App* addSecretsKeyCommand(CLI::App& app, SecretsKeyConfig& c) {
  auto* s = app.add_subcommand("secrets-key", "Manage the keys that seal secrets in the registry (add, rotate, prune, status)");
  s->add_option("action", c.action,
                "add: a new key into the key file (the registry goes on with its key until rotate); "
                "rotate: seal every secret with a newer key; prune: drop keys no secret needs; status")
      ->required()
      ->check(CLI::IsMember({"add", "rotate", "prune", "status"}));
  s->add_option("--data-dir", c.dataDir, "The node's data directory (its registry.db, its default key file)")
      ->capture_default_str();
  s->add_option("--registry", c.registryUrl, "A shared registry: postgres://USER[:PASSWORD]@HOST:PORT/DB");
  s->add_option("--secrets-key-file", c.secretsKeyFile,
                "The key file (or set FN0_SECRETS_KEY_FILE; default: <data-dir>/secrets.key)")
      ->envname("FN0_SECRETS_KEY_FILE");
  s->add_option("--config", c.configFile,
                "The node's config file: data-dir, registry and secrets-key-file from its [serve] section");
  s->add_flag("--json", c.json, "Print the result as JSON");
  // What the command line leaves out comes from the config file, as for
  // `fn0 serve --config` (the flags win).
  auto* dataDir = s->get_option("--data-dir");
  auto* registryUrl = s->get_option("--registry");
  auto* keyFile = s->get_option("--secrets-key-file");
  s->callback([&c, dataDir, registryUrl, keyFile] {
    if (c.configFile.empty()) return;
    toml::table t;
    try {
      t = toml::parse_file(c.configFile);
    } catch (const toml::parse_error& e) {
      throw CLI::ValidationError("--config", c.configFile + ": " + std::string(e.description()));
    }
    auto value = [&](const char* key) -> std::optional<std::string> {
      if (auto v = t["serve"][key].value<std::string>()) return v;
      return t[key].value<std::string>();
    };
    if (auto v = value("data-dir"); v && dataDir->count() == 0) c.dataDir = *v;
    if (auto v = value("registry"); v && registryUrl->count() == 0) c.registryUrl = *v;
    if (auto v = value("secrets-key-file"); v && keyFile->count() == 0 && !std::getenv("FN0_SECRETS_KEY_FILE"))
      c.secretsKeyFile = *v;
  });
  s->footer(
      "Works on the node's storage (the key file, the registry), not through a node: nodes keep serving.\n"
      "Examples:\n"
      "  fn0 secrets-key status --data-dir ./fn0-data\n"
      "  fn0 secrets-key status --config /etc/fn0/fn0.toml\n"
      "  fn0 secrets-key rotate --data-dir ./fn0-data && fn0 secrets-key prune --data-dir ./fn0-data\n"
      "  A cluster (docs/secrets.md): add --secrets-key-file F; copy F to every node;\n"
      "  rotate --registry postgres://... --secrets-key-file F; prune (same flags); copy F again");
  return s;
}

namespace {

struct Failed {
  std::string message;
};

class Command {
 public:
  explicit Command(const SecretsKeyConfig& c)
      : c_(c), file_(c.secretsKeyFile.empty() ? c.dataDir / "secrets.key" : std::filesystem::path(c.secretsKeyFile)) {}

  int run() {
    try {
      json out;
      if (c_.action == "add") out = add();
      else if (c_.action == "rotate") out = rotate();
      else if (c_.action == "prune") out = prune();
      else out = status();
      if (c_.json) fmt::print("{}\n", out.dump());
      return 0;
    } catch (const Failed& f) {
      if (c_.json)
        fmt::print("{}\n", json{{"error", "secrets-key"}, {"message", f.message}}.dump());
      else
        fmt::print(stderr, "fn0 secrets-key {}: {}\n", c_.action, f.message);
      return 1;
    }
  }

 private:
  template <typename... Args>
  void say(fmt::format_string<Args...> f, Args&&... args) {
    if (!c_.json) fmt::print(f, std::forward<Args>(args)...);
  }

  registry::SecretKeyring readFile() {
    if (!std::filesystem::exists(file_))
      throw Failed{"no secrets key file at " + file_.string() +
                   " (a node makes one on its first start; --secrets-key-file or FN0_SECRETS_KEY_FILE names another)"};
    auto ring = registry::readSecretKeyFile(file_);
    if (!ring) throw Failed{ring.error().message};
    return *ring;
  }

  // The registry the nodes use. With keys: checked against the key file
  // (and any value left in clear sealed), as a node would at start.
  std::unique_ptr<registry::Registry> openRegistry(bool withKeys) {
    if (c_.registryUrl.empty() && !std::filesystem::exists(c_.dataDir / "registry.db"))
      throw Failed{"no registry at " + (c_.dataDir / "registry.db").string() +
                   " (--data-dir: the node's data directory; --registry: a shared PostgreSQL one)"};
    auto keys = withKeys ? std::make_shared<registry::SecretKeys>(file_) : nullptr;
    auto r = registry::Registry::open(c_.registryUrl, c_.dataDir, keys);
    if (!r) throw Failed{r.error().message};
    return std::move(*r);
  }

  json add() {
    registry::SecretKeyring ring;
    const bool exists = std::filesystem::exists(file_);
    if (exists) ring = readFile();
    const auto key = registry::generateSecretKey();
    ring.keys.insert(ring.keys.begin(), key);
    if (auto w = registry::writeSecretKeyFile(file_, ring, exists); !w) throw Failed{w.error().message};
    say("added key {} to {} ({} now, newest first: {})\n", key.id, file_.string(), ring.keys.size(),
        fmt::join(ring.ids(), ", "));
    say("the registry goes on sealing with its current key until `fn0 secrets-key rotate`; copy {} to every node "
        "sharing the registry before that\n",
        file_.string());
    return {{"added", key.id}, {"file", file_.string()}, {"keys", ring.ids()}};
  }

  json rotate() {
    auto ring = readFile();
    auto reg = openRegistry(true);
    auto st = reg->secretsStatus();
    if (!st) throw Failed{st.error().message};
    const std::string was = st->keyId;
    // The file's newest key, if the registry does not use it yet: one
    // `add` made and handed to the nodes. Otherwise a new one, written to
    // the file before anything is sealed with it.
    std::string target = ring.keys.front().id;
    bool generated = false;
    if (target == was) {
      const auto key = registry::generateSecretKey();
      ring.keys.insert(ring.keys.begin(), key);
      if (auto w = registry::writeSecretKeyFile(file_, ring, true); !w) throw Failed{w.error().message};
      target = key.id;
      generated = true;
      say("added key {} to {}\n", target, file_.string());
    }
    auto n = reg->rotateSecrets(target);
    if (!n) throw Failed{n.error().message};
    say("sealed {} secret{} with key {} (the registry's key was {})\n", *n, *n == 1 ? "" : "s", target, was);
    if (reg->kind() == "postgres" && generated)
      say("other nodes open these values once {} reaches them (until then they serve the values they had and "
          "cannot set secrets): copy it to every node now\n",
          file_.string());
    say("the older keys in {} seal nothing now: `fn0 secrets-key prune` drops them\n", file_.string());
    return {{"key", target}, {"previous", was}, {"sealed", *n}, {"generated", generated}, {"file", file_.string()}};
  }

  json prune() {
    auto ring = readFile();
    auto reg = openRegistry(true);
    auto st = reg->secretsStatus();
    if (!st) throw Failed{st.error().message};
    for (const auto& [id, n] : st->valuesByKey)
      if (id != st->keyId && n > 0)
        throw Failed{fmt::format("key {} still seals {} secret{}: run `fn0 secrets-key rotate` first", id, n,
                                 n == 1 ? "" : "s")};
    registry::SecretKeyring kept;
    std::vector<std::string> dropped;
    for (const auto& k : ring.keys) {
      if (k.id == st->keyId)
        kept.keys.push_back(k);
      else
        dropped.push_back(k.id);
    }
    if (kept.keys.empty()) throw Failed{"the key file " + file_.string() + " does not hold the registry's key " + st->keyId};
    if (!dropped.empty())
      if (auto w = registry::writeSecretKeyFile(file_, kept, true); !w) throw Failed{w.error().message};
    if (dropped.empty())
      say("{} holds only the registry's key {}\n", file_.string(), st->keyId);
    else
      say("dropped key{} {} from {}; it holds the registry's key {}; copy it to every node\n",
          dropped.size() == 1 ? "" : "s", fmt::join(dropped, ", "), file_.string(), st->keyId);
    return {{"dropped", dropped}, {"key", st->keyId}, {"file", file_.string()}};
  }

  json status() {
    // Read-only on the secrets: the registry is opened without keys (so
    // nothing is made or sealed) and the file is read on its own.
    auto reg = openRegistry(false);
    auto st = reg->secretsStatus();
    if (!st) throw Failed{st.error().message};
    std::vector<std::string> held;
    std::string fileProblem;
    if (auto ring = registry::readSecretKeyFile(file_))
      held = ring->ids();
    else
      fileProblem = ring.error().message;
    auto holds = [&](const std::string& id) { return std::find(held.begin(), held.end(), id) != held.end(); };
    say("key file {}: {}\n", file_.string(),
        fileProblem.empty() ? fmt::format("{} (newest first)", fmt::join(held, ", ")) : fileProblem);
    say("registry ({}): seals new secrets with {}\n", reg->kind(), st->keyId.empty() ? "(no key yet)" : st->keyId);
    for (const auto& [id, n] : st->valuesByKey)
      say("  key {}: {} secret{}{}\n", id, n, n == 1 ? "" : "s", holds(id) ? "" : " (NOT in the key file)");
    if (st->clear) say("  in clear: {} (sealed when a node of this version starts)\n", st->clear);
    json byKey = json::object();
    for (const auto& [id, n] : st->valuesByKey) byKey[id] = n;
    json out{{"file", file_.string()}, {"keys", held},     {"registry_key", st->keyId},
             {"secrets", byKey},       {"clear", st->clear}, {"registry", reg->kind()}};
    if (!fileProblem.empty()) out["file_problem"] = fileProblem;
    return out;
  }

  const SecretsKeyConfig& c_;
  const std::filesystem::path file_;
};

}  // namespace

int runSecretsKey(const SecretsKeyConfig& c) { return Command(c).run(); }

}  // namespace fn0::node
