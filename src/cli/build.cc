#include "cli/build.h"

#include <fmt/core.h>

#include <fstream>
#include <iterator>

#include "cli/js_bundle.h"
#include "cli/tool.h"
#include "common/sha256.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The world a JS build needs: fn0's runtime reads the function's variables
// through wasi:cli/environment, which componentize-js binds only when the
// world imports it by name.
Result<void> checkJsWorld(const fs::path& wit) {
  for (const auto& e : fs::directory_iterator(wit)) {
    if (e.path().extension() != ".wit") continue;
    if (readFile(e.path()).find("wasi:cli/environment@0.2.10") != std::string::npos) return {};
  }
  return Error{"wit/: the world must import wasi:cli/environment@0.2.10 (fn0's JS runtime reads env through it): "
               "add `import wasi:cli/environment@0.2.10;` to your world next to `include wasi:http/proxy@0.2.10;`"};
}

Result<fs::path> buildC(const Project& p, const fs::path& work, const fs::path& out) {
  const fs::path gen = work / "gen";
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  if (auto r = runTool({std::string(FN0_TOOLS_BIN) + "/wit-bindgen", "c", "--world", "c-handler", "--out-dir",
                        gen.string(), wit->string()});
      !r)
    return r.error();
  std::vector<std::string> cc = {FN0_WASM_CLANG, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
                                 "-I" + gen.string(), "-I" + (p.dir / "src").string(), "-o",
                                 (work / "core.wasm").string()};
  for (const auto& e : fs::directory_iterator(p.dir / "src"))
    if (e.path().extension() == ".c") cc.push_back(fs::absolute(e.path()).string());
  cc.push_back((gen / "c_handler.c").string());
  cc.push_back((gen / "c_handler_component_type.o").string());
  if (auto r = runTool(cc); !r) return r.error();
  if (auto r = runTool({std::string(FN0_TOOLS_BIN) + "/wasm-tools", "component", "new", (work / "core.wasm").string(),
                        "--adapt", std::string("wasi_snapshot_preview1=") + FN0_PREVIEW1_REACTOR, "-o", out.string()});
      !r)
    return r.error();
  return out;
}

Result<fs::path> buildJs(const Project& p, const fs::path& work, const fs::path& out) {
  auto bundle = bundleForComponent(p);
  if (!bundle) return bundle.error();
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  // Same bundle, WIT and toolchain as the last build: the same component.
  const std::string key = componentizeKey("fn0-js-build-v1", *bundle, *wit);
  const fs::path stamp = work / "component.inputs";
  if (fs::exists(out) && readFile(stamp) == key) {
    fmt::print(stderr, "fn0 build: nothing changed since the last build: {}\n", out.string());
    return out;
  }
  std::error_code ec;
  fs::remove(stamp, ec);
  fmt::print(stderr, "fn0 build: bundled; componentize-js is embedding it in the JS engine (10-60 s)...\n");
  if (auto r = componentize(work, bundle->filename().string(), *wit, out); !r) return r.error();
  std::ofstream(stamp, std::ios::binary) << key;
  return out;
}

}  // namespace

Result<fs::path> witFolder(const Project& p, const fs::path& work) {
  const fs::path fn0Wit = p.isJs() ? FN0_WIT_JS_DIR : FN0_WIT_C_DIR;
  if (!fs::is_directory(p.dir / "wit")) return fn0Wit;
  if (p.isJs())
    if (auto ok = checkJsWorld(p.dir / "wit"); !ok) return ok.error();
  const fs::path out = work / "wit";
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(p.dir / "wit"))
    if (e.path().extension() == ".wit") fs::copy_file(e.path(), out / e.path().filename());
  // Copied, not linked: componentize-js (through Node's WASI) does not follow symlinks.
  fs::copy(fn0Wit / "deps", out / "deps", fs::copy_options::recursive, ec);
  if (ec) return Error{"cannot prepare WIT in " + out.string() + ": " + ec.message()};
  return out;
}

std::string componentizeKey(const std::string& kind, const fs::path& source, const fs::path& wit) {
  std::string inputs = kind + "\n" + FN0_JS_TOOLCHAIN_ID + "\n" + readFile(source);
  for (const auto& e : fs::directory_iterator(wit))
    if (e.path().extension() == ".wit") inputs += e.path().filename().string() + "\n" + readFile(e.path());
  return sha256Hex({reinterpret_cast<const uint8_t*>(inputs.data()), inputs.size()});
}

Result<void> componentize(const fs::path& cwd, const std::string& source, const fs::path& wit, const fs::path& out) {
  const fs::path js = FN0_JS_TOOLS_DIR;
  fs::create_directories(cwd / "tmp");
  const fs::path partial = out.string() + ".partial";
  auto r = runTool({(js / "node_modules/.bin/componentize-js").string(), source, "--wit", fs::absolute(wit).string(),
                    "--world-name", "js-handler", "-o", fs::absolute(partial).string()},
                   {{"TMPDIR", fs::absolute(cwd / "tmp").string()},
                    {"NODE_OPTIONS", "--import=" + (js / "preopen.mjs").string()}},
                   cwd);
  if (!r) return Error{"componentize-js failed (its output is above)"};
  std::error_code ec;
  fs::rename(partial, out, ec);
  if (ec) return Error{"cannot write " + out.string() + ": " + ec.message()};
  return {};
}

Result<fs::path> buildProject(const Project& p) {
  const fs::path work = fs::absolute(p.workDir());
  fs::create_directories(work);
  const fs::path out = fs::absolute(p.outputPath());
  fs::create_directories(out.parent_path());
  if (!fs::exists(p.dir / p.entry)) return Error{"fn0.toml: entry " + p.entry + " does not exist"};
  if (p.language == "c") return buildC(p, work, out);
  return buildJs(p, work, out);
}

}  // namespace fn0::cli
