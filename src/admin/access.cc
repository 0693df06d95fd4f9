#include "admin/access.h"

#include <unordered_map>

namespace fn0::admin {

Capability capabilityOf(const std::string& method, const std::string& route) {
  static const std::unordered_map<std::string, Capability> table = {
      {"GET /openapi.json", Capability::Read},
      {"GET /status", Capability::Read},
      {"GET /cluster", Capability::Read},
      {"GET /series", Capability::Read},
      {"GET /stats", Capability::Read},
      {"GET /functions", Capability::Read},
      {"GET /functions/{name}", Capability::Read},
      {"GET /functions/{name}/versions", Capability::Read},
      {"GET /functions/{name}/aliases", Capability::Read},
      {"GET /functions/{name}/env", Capability::Read},
      {"GET /functions/{name}/secrets", Capability::Read},  // names only
      {"GET /functions/{name}/logs", Capability::Read},
      {"GET /functions/{name}/metrics", Capability::Read},
      {"GET /functions/{name}/series", Capability::Read},
      {"GET /functions/{name}/settings", Capability::Read},
      {"GET /functions/{name}/versions/{version}/component", Capability::Export},
      {"POST /functions/{name}/versions", Capability::Deploy},
      {"PUT /functions/{name}/aliases/{alias}", Capability::Deploy},
      {"DELETE /functions/{name}/aliases/{alias}", Capability::Deploy},
  };
  auto it = table.find(method + " " + route);
  return it == table.end() ? Capability::Admin : it->second;
}

bool canSee(const Caller& c, const std::string& function) {
  return c.role != "deployer" || c.token.covers(function);
}

std::optional<std::string> refusal(const Caller& c, const std::string& method, const std::string& route,
                                   const std::vector<std::string>& params) {
  if (c.role == "admin") return std::nullopt;
  const Capability need = capabilityOf(method, route);
  const std::string who = "'" + c.subject + "' (role " + c.role + ")";
  const bool perFunction = route.rfind("/functions/{name}", 0) == 0 && !params.empty();
  if (c.role == "viewer") {
    if (need == Capability::Read) return std::nullopt;
    return who + " may only read";
  }
  if (c.role == "deployer") {
    if (need == Capability::Admin) return who + " may deploy and roll back, not this";
    if (perFunction && !c.token.covers(params[0]))
      return who + " may not act on '" + params[0] + "' (its token covers other functions)";
    return std::nullopt;
  }
  return who + " has no role this node knows";
}

}  // namespace fn0::admin
