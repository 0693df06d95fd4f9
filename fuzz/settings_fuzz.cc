// Fuzz target: the admin API's JSON and text inputs: per-function settings
// (PUT /functions/{name}/settings), whatever the bytes, parse to a value or
// an error, and what parses survives its own round trip; the same bytes as
// a variable name and value (PUT /functions/{name}/env/{key}) are accepted
// only if they keep the documented rules.
#include <cctype>
#include <cstdint>
#include <string>

#include "registry/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  if (fn0::registry::checkVarName(in)) {
    const bool first = !in.empty() && (std::isalpha(static_cast<unsigned char>(in[0])) || in[0] == '_');
    for (unsigned char c : in)
      if (!std::isalnum(c) && c != '_') __builtin_trap();
    if (!first || in.size() > 256) __builtin_trap();
  }
  if (fn0::registry::checkVarValue(in) && in.find('\0') != std::string::npos) __builtin_trap();
  auto s = fn0::registry::FunctionSettings::fromJson(in);
  if (!s) return 0;
  const std::string once = s->toJson();
  auto again = fn0::registry::FunctionSettings::fromJson(once);
  if (!again || again->toJson() != once) __builtin_trap();
  return 0;
}
