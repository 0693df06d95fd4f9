// Projects: `fn0 new` (from the embedded templates) and fn0.toml, the
// project's configuration as code: name, language, entry, output, and what a
// deploy applies to the function ([vars], [settings]). `fn0 dev` also reads
// the project's local secrets from .dev.vars (git-ignored).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace fn0::cli {

using Vars = std::vector<std::pair<std::string, std::string>>;

struct Project {
  std::filesystem::path dir;
  std::string name, language, entry, output;
  Vars vars;                                // [vars]: set on every deploy
  std::optional<std::string> settingsJson;  // [settings] as the API's JSON; none: left as they are
  // `fn0 build --build-dir`: intermediate files and the component go there
  // instead of the project's build/ and `output`.
  std::filesystem::path buildDir;
  std::filesystem::path outputPath() const {
    return buildDir.empty() ? dir / output : buildDir / std::filesystem::path(output).filename();
  }
  std::filesystem::path workDir() const { return (buildDir.empty() ? dir / "build" : buildDir) / ".fn0"; }
  bool isJs() const { return language == "js" || language == "ts"; }
  // Reads <dir>/fn0.toml; errors name the file, line and key.
  static Result<Project> load(const std::filesystem::path& dir);
};

Result<void> newProject(const std::string& name, const std::string& language, const std::filesystem::path& dir);

// <dir>/.dev.vars: KEY=VALUE lines (# comments, optional quotes), the local
// stand-in for the function's secrets in `fn0 dev`. No file: none.
Result<Vars> readDevVars(const Project& p);

}  // namespace fn0::cli
