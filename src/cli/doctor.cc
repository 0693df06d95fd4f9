#include "cli/doctor.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/lang/language.h"
#include "cli/lang/layout.h"
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
  // Where fn0's own tools were looked for: a missing one is missing there.
  const Layout& l = layout();
  const json where = {{"layout", l.installed ? "installed" : "build-tree"},
                      {"root", l.root.string()},
                      {"tools_bin", l.toolsBin.string()},
                      {"js_tools", l.jsTools.string()},
                      {"wit_c", l.witC.string()},
                      {"wit_js", l.witJs.string()},
                      {"preview1_adapter", l.preview1Reactor.string()},
                      {"go_wit_runtime", l.goWitRuntime.string()},
                      {"componentize_py", l.componentizePy.string()}};
  if (asJson) {
    fmt::print("{}\n", json{{"languages", out}, {"toolchains", where}}.dump());
  } else {
    if (l.installed)
      fmt::print("fn0's toolchain files: installed in {} (libexec/fn0, share/fn0, lib/fn0)\n", l.root.string());
    else
      fmt::print("fn0's toolchain files: this build's (tools {}, JS tools {}, WIT {})\n", l.toolsBin.string(),
                 l.jsTools.string(), l.witC.parent_path().string());
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
