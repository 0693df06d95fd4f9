// fn0's single executable: parses the command line and hands off to the
// subcommand. Subcommands (serve, dev, deploy, ...) arrive with their issues;
// each lives in its own folder and is only wired up here.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <string_view>

#include "common/version.h"
#include "cli/commands.h"
#include "cli/usage.h"
#include "node/node.h"
#include "node/secrets_key_command.h"
#include "runtime/compile_worker.h"
#include "runtime/engine.h"

int main(int argc, char** argv) {
  // A node compiles uploads in a child process of this binary (hidden).
  if (argc > 1 && std::string_view(argv[1]) == fn0::runtime::kCompileWorkerCommand)
    return fn0::runtime::compileWorkerMain(argc, argv);
  CLI::App app{"fn0 — self-hosted functions as a service on WebAssembly components", "fn0"};
  app.set_version_flag("-V,--version",
                       fmt::format("fn0 {} (wasmtime {})", fn0::kVersion, fn0::runtime::wasmtimeVersion()),
                       "Print fn0's version and the wasmtime version it embeds");
  app.footer("Every client command takes --json: its result, or its error as {\"error\", \"message\", \"status\"},\n"
             "as JSON on stdout; progress and notes go to stderr.\n"
             "Exit codes: 0 done; 1 failed (the node refused or could not be reached, a build failed);\n"
             "2 the command line is wrong (unknown command or option, missing or invalid argument).\n"
             "Example:\n  fn0 serve --listen 127.0.0.1:8080\n  fn0 --version");
  app.require_subcommand(0, 1);
  fn0::node::NodeConfig serveConfig;
  auto* serve = fn0::node::addServeCommand(app, serveConfig);
  fn0::node::SecretsKeyConfig secretsKeyConfig;
  auto* secretsKey = fn0::node::addSecretsKeyCommand(app, secretsKeyConfig);
  fn0::cli::CommandSet commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (house
    // convention), explained in a sentence (did you mean...?).
    return fn0::cli::reportParseError(app, e, fn0::cli::wantsJson(argc, argv));
  }
  if (serve->parsed()) return fn0::node::serve(serveConfig);
  if (secretsKey->parsed()) return fn0::node::runSecretsKey(secretsKeyConfig);
  if (int code = commands.run(); code >= 0) return code;
  if (argc == 1) {
    fmt::print("{}", app.help());
    return 2;
  }
  return 0;
}
