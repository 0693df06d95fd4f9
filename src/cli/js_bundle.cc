#include "cli/js_bundle.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/files.h"
#include "cli/lang/layout.h"
#include "cli/build.h"
#include "cli/templates.h"
#include "cli/tool.h"

namespace fn0::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void writeIfDifferent(const fs::path& p, const std::string& text) {
  if (fs::exists(p) && readFile(p) == text) return;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// The glue's files, from the binary, under <dir>/fn0-runtime/ (stack frames
// in there are fn0's and left out of what a user sees).
fs::path writeRuntime(const fs::path& dir) {
  const fs::path out = dir / "fn0-runtime";
  for (const auto& f : templateFiles())
    if (std::string(f.language) == "guest-js") writeIfDifferent(out / f.path, f.content);
  return out;
}

std::string esbuild() { return (layout().jsTools / "node_modules/.bin/esbuild").string(); }

// esbuild's options for every bundle: the project's packages resolve as for
// a worker (browser builds of packages, no Node.js), wasi: imports are the
// component's own.
std::vector<std::string> commonArgs(const std::string& mode) {
  return {"--bundle", "--platform=neutral", "--main-fields=module,main", "--conditions=worker,browser",
          "--external:wasi:*", "--sourcemap=external", "--sources-content=false", "--log-level=warning",
          "--define:process.env.NODE_ENV=\"" + mode + "\""};
}

// The map esbuild wrote next to `bundle`, reduced to what the glue reads,
// with sources relative to the project folder, as a JS call to append.
Result<std::string> sourceMapCall(const Project& p, const fs::path& bundle, const std::string& name, bool eager) {
  auto map = json::parse(readFile(bundle.string() + ".map"), nullptr, false);
  if (!map.is_object() || !map["sources"].is_array() || !map["mappings"].is_string())
    return Error{"esbuild wrote no usable source map next to " + bundle.string()};
  const fs::path root = fs::absolute(p.dir).lexically_normal();
  json sources = json::array();
  for (const auto& s : map["sources"]) {
    fs::path abs = (bundle.parent_path() / s.get<std::string>()).lexically_normal();
    sources.push_back(abs.lexically_relative(root).string());
  }
  json small = {{"sources", sources}, {"mappings", map["mappings"]}};
  return "\nglobalThis.__fn0_registerSourceMap(" + small.dump() + ", " + json(name).dump() + ", " +
         (eager ? "true" : "false") + ");\n";
}

std::string relativeImport(const fs::path& from, const fs::path& to) {
  std::string rel = to.lexically_relative(from).generic_string();
  if (rel.rfind("../", 0) != 0) rel = "./" + rel;
  return rel;
}

}  // namespace

fs::path userCacheDir() {
  const char* home = std::getenv("HOME");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  return xdg && *xdg ? fs::path(xdg) / "fn0" : fs::path(home ? home : "/tmp") / ".cache" / "fn0";
}

Result<fs::path> bundleForComponent(const Project& p) {
  const fs::path work = fs::absolute(p.workDir());
  fs::create_directories(work);
  writeRuntime(work);
  const fs::path entry = fs::absolute(p.dir / p.entry).lexically_normal();
  // The glue is imported first: it is evaluated before the project's module.
  writeIfDifferent(work / "entry.js", "import { serve } from './fn0-runtime/prelude.js';\nimport * as user from " +
                                          json(relativeImport(work, entry)).dump() + ";\nserve(user);\n");
  const fs::path bundle = work / "bundle.js";
  auto args = commonArgs("production");
  args.insert(args.begin(), {esbuild(), (work / "entry.js").string()});
  args.push_back("--format=esm");
  args.push_back("--outfile=" + bundle.string());
  if (auto r = runTool(args, {}, p.dir); !r) return Error{"the bundle failed (esbuild's message is above)"};
  auto call = sourceMapCall(p, bundle, "bundle.js", true);
  if (!call) return call.error();
  std::ofstream(bundle, std::ios::binary | std::ios::app) << *call;
  return bundle;
}

Result<std::string> bundleForDev(const Project& p) {
  const fs::path work = fs::absolute(p.workDir());
  fs::create_directories(work / "dev");
  const fs::path script = work / "dev" / "script.js";
  auto args = commonArgs("development");
  args.insert(args.begin(), {esbuild(), fs::absolute(p.dir / p.entry).lexically_normal().string()});
  args.push_back("--format=iife");
  args.push_back("--global-name=__fn0_user");
  args.push_back("--outfile=" + script.string());
  if (auto r = runTool(args, {}, p.dir); !r) return Error{"the bundle failed (esbuild's message is above)"};
  auto call = sourceMapCall(p, script, "fn0-dev-script.js", false);
  if (!call) return call.error();
  return readFile(script) + *call + "//# sourceURL=fn0-dev-script.js\n";
}

Result<fs::path> devEngine(const Project& p, bool& built) {
  built = false;
  const fs::path work = fs::absolute(p.workDir()) / "dev-engine";
  fs::create_directories(work);
  writeRuntime(work);
  const fs::path bundle = work / "fn0-runtime.js";
  auto args = commonArgs("development");
  args.insert(args.begin(), {esbuild(), (work / "fn0-runtime" / "dev-loader.js").string()});
  args.push_back("--format=esm");
  args.push_back("--outfile=" + bundle.string());
  if (auto r = runTool(args, {}, work); !r) return Error{"bundling fn0's dev engine failed (above)"};
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  const std::string key = componentizeKey("fn0-dev-engine-v1", bundle, *wit);
  const fs::path engine = userCacheDir() / "dev-engines" / (key.substr(0, 32) + ".wasm");
  if (fs::exists(engine)) return engine;
  fs::create_directories(engine.parent_path());
  built = true;
  if (auto r = componentize(work, bundle.filename().string(), *wit, engine); !r) return r.error();
  return engine;
}

}  // namespace fn0::cli
