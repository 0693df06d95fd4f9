// Fuzz target: routing of client-controlled Host and target (dispatch
// router) and the admin API's path matcher. Input: host, a newline, then
// the target; the method for the matcher is taken from the first byte.
#include <cstdint>
#include <string_view>

#include "admin/route_match.h"
#include "dispatch/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string_view host = in.substr(0, nl);
  const std::string_view target = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  static const fn0::dispatch::Router router("fn0.localhost");
  auto r = router.route(host, target);
  if (r.kind == fn0::dispatch::Route::Function && r.function.empty()) __builtin_trap();
  static const char* kMethods[] = {"GET", "PUT", "POST", "DELETE", "PATCH"};
  const char* method = kMethods[size ? data[0] % 5 : 0];
  auto q = target.find('?');
  auto m = fn0::admin::matchRoute(fn0::admin::apiRoutes(), method, target.substr(0, q));
  if (m.methodOk && !m.found) __builtin_trap();
  return 0;
}
