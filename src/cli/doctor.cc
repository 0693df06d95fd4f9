#include "cli/doctor.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/lang/language.h"
#include "cli/output.h"

namespace fn0::cli {

using nlohmann::json;

int runDoctor(bool asJson) {
  json out = json::array();
  size_t ready = 0;
  for (const auto& l : languages()) {
    const auto missing = l.check();
    json m = json::array();
    for (const auto& x : missing) m.push_back({{"what", x.what}, {"fix", x.fix}});
    out.push_back({{"language", l.name}, {"title", l.title}, {"toolchain", l.how}, {"ready", missing.empty()},
                   {"missing", m}});
    if (missing.empty()) ready++;
  }
  if (asJson) {
    fmt::print("{}\n", json{{"languages", out}}.dump());
  } else {
    fmt::print("languages ({} of {} ready):\n", ready, languages().size());
    for (const auto& l : out) {
      fmt::print("  {:<7} {:<11} {:<9} {}\n", l["language"].get<std::string>(), l["title"].get<std::string>(),
                 l["ready"].get<bool>() ? "ready" : "NOT READY", l["toolchain"].get<std::string>());
      for (const auto& m : l["missing"])
        fmt::print("          missing {}\n            fix: {}\n", m["what"].get<std::string>(),
                   m["fix"].get<std::string>());
    }
  }
  return ready == languages().size() ? kExitOk : kExitFailure;
}

}  // namespace fn0::cli
