// How an API request is named in the audit log: an action word per route
// ("deploy", "alias.set", "secret.delete", ...) and a detail object made
// of the route's parameters (an alias, a variable's name, a key: never a
// value) plus what the handler added (the version a deploy made).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fn0::admin {

std::string auditAction(const std::string& method, const std::string& route);
nlohmann::json auditDetail(const std::string& route, const std::vector<std::string>& params, nlohmann::json detail);

}  // namespace fn0::admin
