#include "cli/apply_config.h"

#include <nlohmann/json.hpp>

namespace fn0::cli {

using nlohmann::json;

std::string apiMessage(const Reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return "the node answered " + std::to_string(r.status);
}

Result<void> applyProjectConfig(const Client& client, const Project& p, uint64_t extraCpuMs) {
  for (const auto& [k, v] : p.vars) {
    auto r = client.call("PUT", "/functions/" + p.name + "/env/" + k, json{{"value", v}}.dump(), "application/json");
    if (!r) return r.error();
    if (r->status >= 300) return Error{"fn0.toml [vars] " + k + ": " + apiMessage(*r)};
  }
  if (!p.settingsJson) return {};
  json settings = json::parse(*p.settingsJson);
  if (extraCpuMs) {
    const uint64_t base = settings.contains("cpu_ms") && settings["cpu_ms"].is_number_unsigned()
                              ? settings["cpu_ms"].get<uint64_t>()
                              : 10;
    settings["cpu_ms"] = base + extraCpuMs;
  }
  auto r = client.call("PUT", "/functions/" + p.name + "/settings", settings.dump(), "application/json");
  if (!r) return r.error();
  if (r->status >= 300) return Error{"fn0.toml [settings]: " + apiMessage(*r)};
  return {};
}

}  // namespace fn0::cli
