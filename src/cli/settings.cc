#include "cli/settings.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/input.h"
#include "registry/registry.h"

namespace fn0::cli {

using nlohmann::json;

const std::vector<std::string>& settingNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : registry::settingRanges()) v.emplace_back(r.name);
    v.emplace_back("allow");
    v.emplace_back("kv_buckets");
    return v;
  }();
  return names;
}

Result<json> applySettingEdits(json current, const std::vector<std::string>& edits) {
  if (!current.is_object()) current = json::object();
  const auto& names = settingNames();
  for (const auto& edit : edits) {
    const auto eq = edit.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error{"expected KEY=VALUE (or KEY= to reset it), got '" + edit + "'", "usage"};
    std::string key = edit.substr(0, eq);
    std::replace(key.begin(), key.end(), '-', '_');
    const std::string value = edit.substr(eq + 1);
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string msg = "unknown setting '" + key + "'";
      if (auto guess = nearest(key, names); !guess.empty()) msg += "; did you mean '" + guess + "'?";
      else msg += "; the settings are " + fmt::format("{}", fmt::join(names, ", "));
      return Error{msg, "usage"};
    }
    if (value.empty()) {
      current.erase(key);
    } else if (key == "allow" || key == "kv_buckets") {  // comma-separated lists
      json list = json::array();
      size_t start = 0;
      while (start <= value.size()) {
        const auto comma = value.find(',', start);
        std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) list.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (list.empty()) current.erase(key);
      else current[key] = list;
    } else {
      if (value.find_first_not_of("0123456789") != std::string::npos || value.size() > 19)
        return Error{key + " takes a whole number, got '" + value + "'", "usage"};
      current[key] = std::stoull(value);
    }
  }
  return current;
}

json effectiveSettings(const json& settings, const json& limits) {
  if (!limits.is_object()) return nullptr;
  json out = json::object();
  for (const auto& r : registry::settingRanges()) {
    const std::string k = r.name;
    if (!limits.contains(k) || !limits[k].is_object()) continue;
    const json& l = limits[k];
    const bool set = settings.contains(k) && settings[k].is_number_integer() && settings[k].get<int64_t>() >= 0;
    if (!set) {
      out[k] = l.value("default", json());
    } else if (l.contains("max") && l["max"].is_number_integer()) {
      out[k] = std::min(settings[k].get<uint64_t>(), l["max"].get<uint64_t>());
    } else {
      out[k] = settings[k];
    }
  }
  for (const char* list : {"allow", "kv_buckets"})
    out[list] = settings.contains(list) && settings[list].is_array() ? settings[list] : json::array();
  return out;
}

namespace {

std::string text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ",") + text(e);
    return out.empty() ? "-" : out;
  }
  return v.dump();
}

}  // namespace

std::string settingsTable(const std::string& function, const json& settings, const json& limits) {
  const json effective = effectiveSettings(settings, limits);
  std::string out = fmt::format(
      "settings of {} (unset: the node's value; a value above the node's maximum is lowered to it)\n", function);
  struct Row {
    std::string key, set, now;
  };
  std::vector<Row> rows;
  size_t width = 8;
  for (const auto& k : settingNames()) {
    const json set = settings.contains(k) ? settings[k] : json();
    std::string now;
    if (k == "allow") {
      now = set.is_array() && !set.empty() ? "as set" : "none: private addresses are refused";
    } else if (k == "kv_buckets") {
      now = set.is_array() && !set.empty() ? "as set" : "none: only its own bucket";
    } else if (effective.is_null() || !effective.contains(k)) {
      now = set.is_null() ? "the node's" : text(set) + " (at most the node's)";
    } else {
      now = text(effective[k]);
      if (set.is_null())
        now += k == "reuse_instance_requests" && effective[k] == 0 ? " (node default: a fresh instance per request)"
               : k == "instance_concurrency" && effective[k] == 0  ? " (node default: one request at a time)"
                                                                   : " (node default)";
      else if (effective[k] != set)
        now += " (the node's maximum)";
    }
    rows.push_back({k, text(set), now});
    width = std::max(width, rows.back().set.size());
  }
  out += fmt::format("  {:<25} {:<{}}  {}\n", "SETTING", "SET", width, "IN EFFECT");
  for (const auto& r : rows) out += fmt::format("  {:<25} {:<{}}  {}\n", r.key, r.set, width, r.now);
  return out;
}

std::string settingsSummary(const json& settings) {
  std::string out;
  if (settings.is_object())
    for (const auto& k : settingNames())
      if (settings.contains(k) && !settings[k].is_null()) out += (out.empty() ? "" : " ") + k + "=" + text(settings[k]);
  return out.empty() ? "the node's defaults" : out;
}

}  // namespace fn0::cli
