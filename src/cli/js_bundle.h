// Bundling a JS/TS project with fn0's JavaScript runtime glue (guest-js/ in
// the repository, embedded in the binary): esbuild resolves the project's
// imports (its node_modules too), the glue gives it the Workers-style module
// interface, and the bundle carries its own source map so a stack trace
// names the project's files and lines.
#pragma once

#include <filesystem>
#include <string>

#include "cli/project.h"
#include "common/result.h"

namespace fn0::cli {

// For a component: one ES module, the glue first, at <work>/bundle.js.
Result<std::filesystem::path> bundleForComponent(const Project& p);

// For `fn0 dev`: the project as a script the dev engine evaluates on each
// request (esbuild's errors, with file:line, go to stderr).
Result<std::string> bundleForDev(const Project& p);

// For `fn0 dev`: the engine (the glue and a loader, componentized once per
// WIT and toolchain, kept in ~/.cache/fn0/dev-engines). `built` tells
// whether this call had to build it.
Result<std::filesystem::path> devEngine(const Project& p, bool& built);

// $XDG_CACHE_HOME/fn0, else ~/.cache/fn0: what fn0 dev keeps per machine.
std::filesystem::path userCacheDir();

}  // namespace fn0::cli
