#include "common/units.h"

#include <cstdio>

namespace fn0 {

std::string formatBytes(uint64_t n) {
  struct Unit {
    uint64_t size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1ull << 30, "GiB"}, {1'000'000'000, "GB"}, {1ull << 20, "MiB"},
                                    {1'000'000, "MB"},   {1ull << 10, "KiB"},    {1000, "kB"}};
  for (const auto& u : kUnits)
    if (n >= u.size && n % u.size == 0) return std::to_string(n / u.size) + " " + u.name;
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

std::string formatDuration(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns >= 1'000'000'000 && ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + " s";
  if (ns >= 1'000'000 && ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + " ms";
  char buf[32];
  if (ns >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(ns) / 1e6);
    return buf;
  }
  return std::to_string(ns / 1000) + " µs";
}

}  // namespace fn0
