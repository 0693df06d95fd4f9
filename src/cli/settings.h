// `fn0 settings NAME [key=value...]`: a function's settings (limits that
// tighten the node's, the outbound allow-list). PUT /functions/{name}/settings
// replaces the whole object, so edits typed on the command line are applied
// to what the node holds (read, modify, write) and the other keys stay.
// Shown next to the value in effect, from the node's defaults and maxima
// (GET /status `function_limits`). Pure: JSON in, JSON or text out.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace fn0::cli {

// The setting names, in the order they are shown.
const std::vector<std::string>& settingNames();

// `current` (a stored settings object) with `edits` applied: "cpu_ms=50"
// (a whole number; the node checks its range), "allow=CIDR,CIDR", "key="
// back to the node's value. `-` may stand for `_` in a key. An Error (code
// "usage") names a bad edit and, for a misspelt key, the nearest one.
Result<nlohmann::json> applySettingEdits(nlohmann::json current, const std::vector<std::string>& edits);

// The values in effect on the node: an unset limit is the node's default, a
// set one at most the node's maximum. `limits` is GET /status's
// `function_limits` ({"cpu_ms": {"default": 10, "max": 10}, ...}); null
// when the node does not say (an older fn0).
nlohmann::json effectiveSettings(const nlohmann::json& settings, const nlohmann::json& limits);

// The table `fn0 settings` prints.
std::string settingsTable(const std::string& function, const nlohmann::json& settings, const nlohmann::json& limits);

// One line for `fn0 info`: "cpu_ms=50 memory_mb=64" or "the node's defaults".
std::string settingsSummary(const nlohmann::json& settings);

}  // namespace fn0::cli
