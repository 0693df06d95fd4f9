// `fn0 secrets-key add|rotate|prune|status`: the operator's commands for
// the keys that seal secrets in the registry (docs/secrets.md).
//
// They work on a node's storage directly, like a migration: the key file
// and the registry (the SQLite file in --data-dir, or --registry's
// PostgreSQL), not through the admin API. The key material is made where
// the command runs and goes only into key files, which the operator hands
// to the nodes; the API never carries a key, and no node makes one the
// others would need. Nodes keep serving meanwhile: each one opens a value
// with whichever key its row names, reading its key file again when it
// meets one it does not hold yet.
#pragma once

#include <filesystem>
#include <string>

namespace CLI {
class App;
}

namespace fn0::node {

struct SecretsKeyConfig {
  std::string action;  // add | rotate | prune | status
  std::filesystem::path dataDir = "fn0-data";
  std::string registryUrl;
  std::string secretsKeyFile;  // or FN0_SECRETS_KEY_FILE; empty: <dataDir>/secrets.key
  // The node's config file: its [serve] data-dir, registry and
  // secrets-key-file fill in what the command line does not give.
  std::string configFile;
  bool json = false;
};

CLI::App* addSecretsKeyCommand(CLI::App& app, SecretsKeyConfig& config);

// Exit code: 0 done, 1 failed (named on stderr, or as {"error", "message"} with --json).
int runSecretsKey(const SecretsKeyConfig& config);

}  // namespace fn0::node
