#include "cli/views.h"

#include "cli/output.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace fn0::cli {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

double num(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0; }

uint64_t count(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<uint64_t>() : 0;
}

uint64_t responses(const json& counters, const char* cls) {
  return counters.contains("responses") ? count(counters["responses"], cls) : 0;
}

std::string heartbeat(double ms) {
  if (ms < 1000) return fmt::format("{:.0f} ms ago", ms);
  if (ms < 120000) return fmt::format("{:.1f} s ago", ms / 1000);
  return fmt::format("{:.0f} min ago", ms / 60000);
}

}  // namespace

std::string localTime(double unixSeconds, bool millis, double now) {
  const auto whole = static_cast<time_t>(unixSeconds);
  const auto nowWhole = static_cast<time_t>(now);
  std::tm t{}, today{};
  localtime_r(&whole, &t);
  localtime_r(&nowWhole, &today);
  char buf[64];
  const bool sameDay = t.tm_year == today.tm_year && t.tm_yday == today.tm_yday;
  std::strftime(buf, sizeof buf, sameDay && millis ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &t);
  std::string out = buf;
  if (millis) {
    const int ms = static_cast<int>((unixSeconds - static_cast<double>(whole)) * 1000);
    out += fmt::format(".{:03d}", std::clamp(ms, 0, 999));
  } else {
    std::strftime(buf, sizeof buf, " %Z", &t);
    out += buf;
  }
  return out;
}

std::string logLine(const json& entry, bool withNode, double now) {
  const std::string mark = str(entry, "stream") == "stderr" ? "!" : " ";
  const std::string when = entry.contains("time") && entry["time"].is_number()
                               ? localTime(entry["time"].get<double>(), true, now)
                               : "-";
  std::string version = str(entry, "version");
  if (version.empty()) version = "-";
  if (withNode)
    return fmt::format("{} {} {} {} {} {}", str(entry, "node"), when, version, str(entry, "request_id"), mark,
                       str(entry, "line"));
  return fmt::format("{} {} {} {} {}", when, version, str(entry, "request_id"), mark, str(entry, "line"));
}

json versionsWithAliases(const json& function) {
  json out = {{"function", str(function, "name")}, {"live", function.contains("live") ? function["live"] : json()}};
  json versions = json::array();
  const json aliases = function.contains("aliases") && function["aliases"].is_object() ? function["aliases"] : json::object();
  if (function.contains("versions") && function["versions"].is_array())
    for (json v : function["versions"]) {
      json names = json::array();
      for (const auto& [alias, target] : aliases.items())
        if (target.is_string() && target.get<std::string>() == str(v, "version")) names.push_back(alias);
      v["live"] = std::find(names.begin(), names.end(), "live") != names.end();
      v["aliases"] = names;
      versions.push_back(std::move(v));
    }
  out["versions"] = versions;
  return out;
}

std::string versionsTable(const json& listed, double now) {
  const json& versions = listed["versions"];
  if (versions.empty()) return fmt::format("{} has no versions\n", str(listed, "function"));
  std::string out = fmt::format("  {:<8} {:<25} {:>10}  {:<12}  {:<16}  {}\n", "VERSION", "CREATED", "SIZE", "SHA256",
                                "BY", "ALIASES");
  for (const auto& v : versions) {
    const bool live = v.value("live", false);
    std::string aliases;
    for (const auto& a : v["aliases"]) aliases += (aliases.empty() ? "" : ", ") + a.get<std::string>();
    const std::string created = v.contains("created_at") && v["created_at"].is_number()
                                    ? localTime(v["created_at"].get<double>(), false, now)
                                    : "-";
    const std::string by = v.contains("created_by") && v["created_by"].is_string() ? str(v, "created_by") : "-";
    out += fmt::format("{} {:<8} {:<25} {:>10}  {:<12}  {:<16}  {}\n", live ? "*" : " ", str(v, "version"), created,
                       sizeText(count(v, "size")), str(v, "hash").substr(0, 12), by, aliases);
  }
  if (listed["live"].is_null()) out += "  (no live version: `fn0 rollback NAME VERSION` makes one live)\n";
  return out;
}

std::string clusterTable(const json& cluster) {
  if (!cluster.value("clustered", false)) return "  cluster: a single node (no shared registry)\n";
  const json nodes = cluster.contains("nodes") && cluster["nodes"].is_array() ? cluster["nodes"] : json::array();
  size_t up = 0;
  for (const auto& n : nodes) up += str(n, "state") == "up";
  std::string out = fmt::format("  cluster: {} nodes, {} up{}\n", nodes.size(), up,
                                cluster.value("forwarding", false) ? "" : " (this node does not forward requests)");
  out += fmt::format("  {:<26} {:<8} {:>9} {:>5}  {}\n", "NODE", "STATE", "RUNNING", "WARM", "HEARTBEAT");
  for (const auto& n : nodes) {
    const std::string id = str(n, "id") + (n.value("self", false) ? " *" : "");
    const std::string running = fmt::format("{}/{}", count(n, "running"), count(n, "capacity"));
    out += fmt::format("  {:<26} {:<8} {:>9} {:>5}  {}\n", id, str(n, "state"), running, count(n, "warm"),
                       heartbeat(num(n, "last_heartbeat_ms")));
  }
  return out;
}

std::string metricsTable(const json& m) {
  const json& total = m.contains("total") ? m["total"] : json::object();
  const json nodes = m.contains("nodes") && m["nodes"].is_array() ? m["nodes"] : json::array();
  const uint64_t requests = count(total, "requests");
  std::string out = fmt::format("{}: {} requests{}, {} errors (5xx), {} cold starts, {} overloads\n", str(m, "function"),
                                requests, m.value("clustered", false) ? fmt::format(" on {} nodes", nodes.size()) : "",
                                count(total, "errors"), count(total, "cold_starts"), count(total, "overloads"));
  auto row = [&](const std::string& label, const json& c) {
    const uint64_t n = count(c, "requests");
    const std::string mean = n ? fmt::format("{:.2f} ms", 1000 * num(c, "duration_seconds") / static_cast<double>(n)) : "-";
    return fmt::format("  {:<26} {:>8} {:>6} {:>6} {:>6} {:>5} {:>9.3f} {:>10}\n", label, n, responses(c, "2xx"),
                       responses(c, "4xx"), responses(c, "5xx"), count(c, "cold_starts"), num(c, "cpu_seconds"), mean);
  };
  out += fmt::format("  {:<26} {:>8} {:>6} {:>6} {:>6} {:>5} {:>9} {:>10}\n", "NODE", "REQUESTS", "2XX", "4XX", "5XX",
                     "COLD", "CPU (s)", "MEAN");
  for (const auto& n : nodes) out += row(str(n, "node"), n);
  if (nodes.size() > 1) out += row("total", total);
  if (total.contains("limit_hits") && total["limit_hits"].is_object() && !total["limit_hits"].empty()) {
    out += "  limit hits:";
    for (const auto& [reason, n] : total["limit_hits"].items()) out += fmt::format(" {} {}", reason, n.get<uint64_t>());
    out += "\n";
  }
  return out;
}

std::string unreachableNote(const json& answer) {
  if (!answer.contains("unreachable") || !answer["unreachable"].is_array() || answer["unreachable"].empty()) return "";
  std::string out = "warning: left out, no answer from";
  for (const auto& id : answer["unreachable"]) {
    const std::string peer = id.is_string() ? id.get<std::string>() : id.dump();
    out += " " + peer;
    if (answer.contains("peer_errors") && answer["peer_errors"].contains(peer))
      out += " (" + str(answer["peer_errors"], peer.c_str()) + ")";
  }
  return out;
}

void EventStream::feed(std::string_view bytes) {
  pending_.append(bytes);
  size_t nl;
  while ((nl = pending_.find('\n')) != std::string::npos) {
    std::string line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {  // the end of an event
      if (!data_.empty()) onEvent_(event_, data_);
      event_.clear();
      data_.clear();
      continue;
    }
    if (line[0] == ':') continue;  // a comment (keep-alive)
    const auto colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "event") event_ = value;
    if (field == "data") data_ += (data_.empty() ? "" : "\n") + value;
  }
}

std::string gcSummary(const nlohmann::json& r) {
  const bool dry = r.value("dry_run", false);
  const auto& t = r.at("totals");
  std::string out = fmt::format("{} {} version(s), {} object(s), {}{}\n", dry ? "would delete" : "deleted",
                                t.value("versions", 0), t.value("objects", 0), sizeText(t.value("bytes", uint64_t{0})),
                                dry ? " (dry run: nothing was deleted)" : "");
  for (const auto& [fn, versions] : t.at("versions_by_function").items()) {
    std::string list;
    for (const auto& v : versions) list += (list.empty() ? "" : " ") + v.get<std::string>();
    out += fmt::format("  {}: {}\n", fn, list);
  }
  for (const auto& [kind, k] : t.at("by_kind").items())
    out += fmt::format("  {}: {} ({})\n", kind, k.value("count", 0), sizeText(k.value("bytes", uint64_t{0})));
  if (r.value("kept_young", uint64_t{0}) > 0)
    out += fmt::format("kept {} unreferenced object(s) younger than the grace period ({} s)\n",
                       r.value("kept_young", uint64_t{0}), r.value("grace_s", int64_t{0}));
  for (const auto& n : r.value("nodes", nlohmann::json::array()))
    if (n.contains("error")) out += fmt::format("node {} did not sweep its files: {}\n", n.value("node", "?"),
                                                 n.value("error", ""));
  for (const auto& f : r.value("failures", nlohmann::json::array()))
    out += "could not delete: " + f.get<std::string>() + "\n";
  return out;
}

}  // namespace fn0::cli
