// The client commands of the `fn0` binary (login, deploy, list, info,
// versions, rollback, alias, delete, env, secret, logs, export, metrics, status):
// each talks to a node's admin API. Exit codes: 0 ok, 1 error, 2 usage.
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace fn0::cli {

class Commands;

// Registers the commands on `app`; run() executes whichever was parsed and
// returns its exit code, or -1 if none of them was.
class CommandSet {
 public:
  explicit CommandSet(CLI::App& app);
  ~CommandSet();
  int run();

 private:
  std::unique_ptr<Commands> impl_;
};

}  // namespace fn0::cli
