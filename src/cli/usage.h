// Command-line mistakes in plain sentences: a misspelt command or option
// gets the nearest real one ("unknown command 'deplyo'; did you mean
// 'deploy'?"), CLI11's other texts are reworded, and each ends with where
// the usage is. Exit code 2 (kExitUsage); with --json one error object on
// stdout.
#pragma once

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace fn0::cli {

// Whether --json is on the command line (usage errors come before parsing
// has said so).
bool wantsJson(int argc, char** argv);

// Reports `e` (raised by app.parse) and returns the exit code: 0 after
// --help or --version (printed by CLI11), kExitUsage otherwise.
int reportParseError(CLI::App& app, const CLI::ParseError& e, bool json);

}  // namespace fn0::cli
