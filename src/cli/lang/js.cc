// JavaScript and TypeScript: esbuild bundles the project with fn0's runtime
// glue (js_bundle.h), componentize-js embeds the bundle in the StarlingMonkey
// engine. A build whose inputs did not change reuses the last component (so
// a redeploy creates no version).
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/build.h"
#include "cli/files.h"
#include "cli/js_bundle.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

Result<fs::path> buildJs(const Project& p, const fs::path& work, const fs::path& out) {
  auto bundle = bundleForComponent(p);
  if (!bundle) return bundle.error();
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  // Same bundle, WIT and toolchain as the last build: the same component.
  const std::string key = componentizeKey("fn0-js-build-v1", *bundle, *wit);
  const fs::path stamp = work / "component.inputs";
  if (unchangedSinceLastBuild(out, stamp, key)) return out;
  fmt::print(stderr, "fn0 build: bundled; componentize-js is embedding it in the JS engine (10-60 s)...\n");
  if (auto r = componentize(work, bundle->filename().string(), *wit, out); !r) return r.error();
  writeStamp(stamp, key);
  return out;
}

std::vector<Missing> jsMissing() {
  const fs::path js = layout().jsTools;
  return missingOf({needProgram("node", "apt-get install nodejs (Node.js 18 or newer)"),
                    needPath(js / "node_modules/.bin/componentize-js", "componentize-js", setupFix()),
                    needPath(js / "node_modules/.bin/esbuild", "esbuild", setupFix())});
}

}  // namespace

Language jsLanguage() {
  return {"js", "JavaScript", "esbuild + componentize-js (StarlingMonkey)", jsMissing, buildJs};
}

Language tsLanguage() {
  return {"ts", "TypeScript", "esbuild + componentize-js (StarlingMonkey)", jsMissing, buildJs};
}

}  // namespace fn0::cli
