// What the client commands print for people: logs (time, version, request
// id; in a cluster the node that wrote each line), versions, settings, the
// status's node table, a function's metrics; and the reading of a
// Server-Sent Events stream (logs --follow). Pure: JSON in, text out.
#pragma once

#include "common/percent_encode.h"

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fn0::cli {

// A time in this machine's zone: "14:03:07.123" with `millis` (the date
// too unless it is the day of `now`), else "2025-01-10 14:03:07 CET".
std::string localTime(double unixSeconds, bool millis, double now);

// One log entry: "<time> <version> <request id> <!| > <line>", the node
// first when `withNode` (a cluster's lines).
std::string logLine(const nlohmann::json& entry, bool withNode, double now);

// `fn0 versions --json`: GET /functions/{name}'s versions, each with
// `live` and the `aliases` that point to it.
nlohmann::json versionsWithAliases(const nlohmann::json& function);
// `fn0 versions`: that list as a table, the live one marked *.
std::string versionsTable(const nlohmann::json& listed, double now);

// The node table under `fn0 status`, from GET /cluster.
std::string clusterTable(const nlohmann::json& cluster);

// `fn0 metrics NAME`, from GET /functions/{name}/metrics.
std::string metricsTable(const nlohmann::json& metrics);

// `fn0 gc`, from POST /gc: what went (or would go, dry run), by kind and
// by function, what was kept for being too young, what failed.
std::string gcSummary(const nlohmann::json& report);

// A warning for the peers a cluster-wide answer had to leave out ("" for none).
std::string unreachableNote(const nlohmann::json& answer);

// Server-Sent Events, fed as the bytes arrive; each complete event (its
// `event:` name, "" for a plain message, and its data) goes to the callback.
class EventStream {
 public:
  using OnEvent = std::function<void(const std::string& event, const std::string& data)>;
  explicit EventStream(OnEvent onEvent) : onEvent_(std::move(onEvent)) {}
  void feed(std::string_view bytes);

 private:
  OnEvent onEvent_;
  std::string pending_, event_, data_;
};

}  // namespace fn0::cli
