#include "cli/lang/layout.h"

#include <system_error>

namespace fn0::cli {

namespace fs = std::filesystem;

Layout layoutFor(const fs::path& executable) {
  std::error_code ec;
  const fs::path bin = executable.parent_path();
  const fs::path prefix = bin.parent_path();
  if (!bin.empty() && fs::exists(prefix / "share/fn0" / kInstalledMarker, ec)) {
    Layout l;
    l.installed = true;
    l.root = prefix;
    l.toolsBin = prefix / "libexec/fn0";
    l.jsTools = prefix / "share/fn0/js";
    l.witC = prefix / "share/fn0/wit/c";
    l.witJs = prefix / "share/fn0/wit/js";
    l.preview1Reactor = prefix / "share/fn0/adapters/wasi_snapshot_preview1.reactor.wasm";
    l.goWitRuntime = prefix / "share/fn0/go-wit-runtime";
    // A launcher for the package under lib/fn0/python (a venv cannot move).
    l.componentizePy = prefix / "libexec/fn0/componentize-py";
    return l;
  }
  Layout l;
  l.root = bin;
  l.toolsBin = FN0_TOOLS_BIN;
  l.jsTools = FN0_JS_TOOLS_DIR;
  l.witC = FN0_WIT_C_DIR;
  l.witJs = FN0_WIT_JS_DIR;
  l.preview1Reactor = FN0_PREVIEW1_REACTOR;
  l.goWitRuntime = FN0_GO_WIT_RUNTIME;
  l.componentizePy = FN0_COMPONENTIZE_PY;
  return l;
}

const Layout& layout() {
  static const Layout l = [] {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return layoutFor(ec ? fs::path() : exe);
  }();
  return l;
}

std::string setupFix() {
  if (layout().installed)
    return "install fn0 again (make install PREFIX=" + layout().root.string() +
           " in the fn0 checkout copies fn0's tools, WIT and adapter)";
  return "run scripts/setup.sh (make setup) in the fn0 checkout";
}

}  // namespace fn0::cli
