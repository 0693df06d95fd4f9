// Fuzz target: per-function settings as the admin API receives them
// (PUT /functions/{name}/settings). Whatever the bytes, parsing returns a
// value or an error; what it accepts must survive its own round trip.
#include <cstdint>
#include <string>

#include "registry/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto s = fn0::registry::FunctionSettings::fromJson(in);
  if (!s) return 0;
  const std::string once = s->toJson();
  auto again = fn0::registry::FunctionSettings::fromJson(once);
  if (!again || again->toJson() != once) __builtin_trap();
  return 0;
}
