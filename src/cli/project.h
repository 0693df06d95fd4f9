// Projects: `fn0 new` (from the embedded templates), fn0.toml, and
// `fn0 build` (the toolchains scripts/setup.sh installs: componentize-js for
// JS/TS with esbuild first for TS; clang + wit-bindgen + the preview1
// adapter for C).
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace fn0::cli {

struct Project {
  std::filesystem::path dir;
  std::string name, language, entry, output;
  std::filesystem::path outputPath() const { return dir / output; }
  // Reads <dir>/fn0.toml.
  static Result<Project> load(const std::filesystem::path& dir);
};

Result<void> newProject(const std::string& name, const std::string& language, const std::filesystem::path& dir);

// Builds the project; tool output goes to stderr. Returns the component path.
Result<std::filesystem::path> buildProject(const Project& p);

}  // namespace fn0::cli
