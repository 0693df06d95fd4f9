// What each caller may do. Roles: admin (everything), deployer (deploy and
// move aliases of the functions its token covers, and read them), viewer
// (read; not key-value data, component downloads, tokens or the audit
// log). Each API route needs one capability; a route not listed here needs
// admin, so a new route is closed until someone opens it on purpose.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "admin/auth.h"

namespace fn0::admin {

enum class Capability {
  Read,    // anything a viewer may read
  Export,  // a function's original component, read-only but not for viewers
  Deploy,  // new versions, aliases
  Admin,   // everything else
};

// "METHOD /template" -> what it needs.
Capability capabilityOf(const std::string& method, const std::string& route);

// std::nullopt when `c` may call `route` (with its path parameters; the
// first of a /functions/{name}/... route is the function); otherwise the
// sentence of a 403.
std::optional<std::string> refusal(const Caller& c, const std::string& method, const std::string& route,
                                   const std::vector<std::string>& params);

// Whether `c` may see `function` at all (lists, summaries).
bool canSee(const Caller& c, const std::string& function);

}  // namespace fn0::admin
