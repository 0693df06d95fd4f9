// The admin API's route table, and which of its routes a request path is: a
// plain, bounded matcher over a table of "METHOD /template" routes (OpenAPI style, e.g.
// "PUT /functions/{name}/env/{key}"). Iterative and linear in the path's
// length, with no allocation beyond the matched parameters, so a hostile
// path (a megabyte-long segment, thousands of slashes) costs what reading it
// costs: the regex it replaces recursed per character and overflowed the
// stack. A pure function, so a fuzz target can call it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fn0::admin {

// Longest API path (relative to /_fn0/api/v1) the API looks at; longer ones
// are answered 414 before matching. The longest real one (a 63-byte name and
// a 256-byte key, percent-encoded) is far below.
inline constexpr size_t kMaxApiPathBytes = 2048;

struct RouteMatch {
  bool found = false;      // some route has this path
  bool methodOk = false;   // ... with this method
  bool malformed = false;  // a parameter has broken percent-encoding (%zz, a lone %)
  std::string route;       // the matched template, e.g. "/functions/{name}/env/{key}"
  std::vector<std::string> params;  // the {placeholders}, in order, percent-decoded
};

// Matches `path` (no query, relative to /_fn0/api/v1, e.g.
// "/functions/hello/env/KEY") against `routes`. A literal segment matches
// itself byte for byte; a {placeholder} matches any one segment (never a
// '/', possibly empty: the handler says what is wrong with an empty name).
// The first route whose template and method match wins. Paths longer than
// kMaxApiPathBytes match nothing.
RouteMatch matchRoute(const std::vector<std::string>& routes, std::string_view method, std::string_view path);

// Every API route as "METHOD /template" (OpenAPI style, relative to
// /_fn0/api/v1). The single list the dispatcher matches against and the
// OpenAPI test compares with openapi.json.
const std::vector<std::string>& apiRoutes();

// Percent-decodes `s`; false on a malformed escape.
bool percentDecode(std::string_view s, std::string& out);

}  // namespace fn0::admin
