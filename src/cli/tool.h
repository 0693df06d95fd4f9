// Running the toolchains `fn0 build` and `fn0 dev` use (esbuild,
// componentize-js, clang, wit-bindgen, wasm-tools): their output goes to our
// stderr, so a compiler's file:line errors reach the user as they are.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace fn0::cli {

// Runs argv[0] (looked up in PATH when it has no slash) in `cwd` (empty: ours)
// with `env` added to our environment. Fails when it cannot start or does
// not exit 0; the message names the tool.
Result<void> runTool(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                     const std::filesystem::path& cwd = {});

// The same, its stdout and stderr kept instead of shown (`output`).
Result<void> runToolQuiet(const std::vector<std::string>& argv, std::string& output,
                          const std::map<std::string, std::string>& env = {}, const std::filesystem::path& cwd = {});

}  // namespace fn0::cli
