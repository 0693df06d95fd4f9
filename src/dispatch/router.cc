#include "dispatch/router.h"

#include <algorithm>
#include <cctype>

#include "registry/registry.h"

namespace fn0::dispatch {

namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}

// "host:port" -> "host" (IPv6 literals in brackets keep their colons).
std::string_view stripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool validSelector(const std::string& s) { return registry::isDnsLabel(s); }

}  // namespace

Router::Router(std::string baseDomain) : baseDomain_(lower(baseDomain)) {
  while (!baseDomain_.empty() && baseDomain_.front() == '.') baseDomain_.erase(0, 1);
}

Route Router::route(std::string_view host, std::string_view target) const {
  Route r;
  if (target == "/_fn0" || target.substr(0, 6) == "/_fn0/" || target.substr(0, 6) == "/_fn0?") {
    r.kind = Route::Platform;
    r.path = std::string(target);
    return r;
  }
  const std::string h = lower(stripPort(host));
  const std::string suffix = "." + baseDomain_;
  if (!baseDomain_.empty() && h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
    std::string labels = h.substr(0, h.size() - suffix.size());
    auto dot = labels.find('.');
    if (dot == std::string::npos) {
      r.function = labels;
    } else {
      r.selector = labels.substr(0, dot);
      r.function = labels.substr(dot + 1);
      if (r.function.find('.') != std::string::npos || !validSelector(r.selector)) return r;  // NotFound
    }
    if (!registry::isDnsLabel(r.function)) return r;
    r.kind = Route::Function;
    r.path = target.empty() ? "/" : std::string(target);
    return r;
  }
  // Path routing: /<fn>[@<sel>]/<rest>
  if (target.empty() || target.front() != '/') return r;
  std::string_view rest = target.substr(1);
  auto end = rest.find_first_of("/?");
  std::string_view seg = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  auto at = seg.find('@');
  r.function = std::string(seg.substr(0, at));
  if (at != std::string_view::npos) {
    r.selector = std::string(seg.substr(at + 1));
    if (!validSelector(r.selector)) return r;
  }
  if (!registry::isDnsLabel(r.function)) return r;
  r.kind = Route::Function;
  if (tail.empty())
    r.path = "/";
  else if (tail.front() == '?')
    r.path = "/" + std::string(tail);
  else
    r.path = std::string(tail);
  r.originalPath = std::string(target);
  return r;
}

}  // namespace fn0::dispatch
