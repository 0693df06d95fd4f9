// Routing (PRODUCT.md §4): which function, which version, and what path the
// guest sees, from the Host header and the request target. O(1) in the
// number of functions: it only parses; lookups happen in a hash map.
//   <fn>.<base-domain>            -> fn, live
//   <sel>.<fn>.<base-domain>      -> fn, version (v3) or alias
//   /<fn>/<rest>                  -> fn, live, guest sees /<rest>
//   /<fn>@<sel>/<rest>            -> fn, version or alias
//   /_fn0/...                     -> the platform, whatever the host
#pragma once

#include <string>
#include <string_view>

namespace fn0::dispatch {

struct Route {
  enum Kind { Function, Platform, NotFound } kind = NotFound;
  std::string function;
  std::string selector;      // "" = live; "v3" = a version; else an alias
  std::string path;          // path and query the guest sees
  std::string originalPath;  // path routing: the target as the client sent it
};

class Router {
 public:
  explicit Router(std::string baseDomain);
  Route route(std::string_view host, std::string_view target) const;
  const std::string& baseDomain() const { return baseDomain_; }

 private:
  std::string baseDomain_;  // lowercase, no leading dot
};

}  // namespace fn0::dispatch
