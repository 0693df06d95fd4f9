// Where the CLI finds its node: ~/.config/fn0/config.toml (written by
// `fn0 login`, mode 0600), overridden by FN0_SERVER and FN0_TOKEN.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace fn0::cli {

struct CliConfig {
  std::string server;
  std::string token;
};

std::filesystem::path configPath();
CliConfig loadConfig();  // file, then environment overrides
Result<void> saveConfig(const CliConfig& c);

}  // namespace fn0::cli
