#include "admin/route_match.h"

namespace fn0::admin {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One segment at a time, left to right, in both: a template segment
// "{...}" takes whatever the path segment is, any other must be equal. Both
// must run out of segments together. `params` gets the raw placeholder
// segments (views into `path`).
bool segmentsMatch(std::string_view tmpl, std::string_view path, std::vector<std::string_view>& params) {
  size_t ti = 1, pi = 1;  // both start with '/'
  for (;;) {
    size_t te = tmpl.find('/', ti), pe = path.find('/', pi);
    if (te == std::string_view::npos) te = tmpl.size();
    if (pe == std::string_view::npos) pe = path.size();
    const std::string_view ts = tmpl.substr(ti, te - ti), ps = path.substr(pi, pe - pi);
    if (ts.size() >= 2 && ts.front() == '{' && ts.back() == '}')
      params.push_back(ps);
    else if (ts != ps)
      return false;
    const bool tmplEnd = te == tmpl.size(), pathEnd = pe == path.size();
    if (tmplEnd || pathEnd) return tmplEnd && pathEnd;
    ti = te + 1;
    pi = pe + 1;
  }
}

}  // namespace

const std::vector<std::string>& apiRoutes() {
  static const std::vector<std::string> routes = {
      "GET /openapi.json",
      "GET /status",
      "GET /cluster",
      "GET /session",
      "POST /session",
      "DELETE /session",
      "GET /series",
      "GET /stats",
      "GET /tokens",
      "POST /tokens",
      "DELETE /tokens/{id}",
      "GET /audit",
      "GET /functions",
      "GET /functions/{name}",
      "DELETE /functions/{name}",
      "GET /functions/{name}/versions",
      "POST /functions/{name}/versions",
      "GET /functions/{name}/versions/{version}/component",
      "GET /functions/{name}/aliases",
      "PUT /functions/{name}/aliases/{alias}",
      "DELETE /functions/{name}/aliases/{alias}",
      "GET /functions/{name}/env",
      "PUT /functions/{name}/env/{key}",
      "DELETE /functions/{name}/env/{key}",
      "GET /functions/{name}/secrets",
      "PUT /functions/{name}/secrets/{key}",
      "DELETE /functions/{name}/secrets/{key}",
      "GET /functions/{name}/logs",
      "GET /functions/{name}/metrics",
      "GET /functions/{name}/series",
      "GET /functions/{name}/settings",
      "PUT /functions/{name}/settings",
      "GET /functions/{name}/kv",
      "GET /functions/{name}/kv/{key}",
      "PUT /functions/{name}/kv/{key}",
      "DELETE /functions/{name}/kv/{key}",
      "GET /functions/{name}/kv-export",
      "POST /functions/{name}/kv-import",
  };
  return routes;
}

bool percentDecode(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;  // a '%' needs two hex digits after it
    const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

RouteMatch matchRoute(const std::vector<std::string>& routes, std::string_view method, std::string_view path) {
  RouteMatch out;
  if (path.empty() || path.size() > kMaxApiPathBytes || path.front() != '/') return out;
  std::vector<std::string_view> raw;
  for (const auto& r : routes) {
    const auto space = r.find(' ');
    if (space == std::string::npos || space + 1 >= r.size() || r[space + 1] != '/') continue;
    const std::string_view routeMethod(r.data(), space), tmpl(r.data() + space + 1, r.size() - space - 1);
    raw.clear();
    if (!segmentsMatch(tmpl, path, raw)) continue;
    out.found = true;
    if (routeMethod != method) continue;
    out.methodOk = true;
    out.route = std::string(tmpl);
    for (const auto& segment : raw) {
      std::string decoded;
      if (!percentDecode(segment, decoded)) {
        out.malformed = true;
        out.params.clear();
        return out;
      }
      out.params.push_back(std::move(decoded));
    }
    return out;
  }
  return out;
}

}  // namespace fn0::admin
