#include "cli/build.h"

#include <fmt/core.h>

#include <fstream>
#include <iterator>

#include "cli/files.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"
#include "cli/tool.h"
#include "common/sha256.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

// The world a JS build needs: fn0's runtime reads the function's variables
// through wasi:cli/environment, which componentize-js binds only when the
// world imports it by name.
Result<void> checkJsWorld(const fs::path& wit) {
  std::string all;
  for (const auto& e : fs::directory_iterator(wit))
    if (e.path().extension() == ".wit") all += readFile(e.path());
  for (const char* needed : {"wasi:cli/environment@0.2.10", "wasi:keyvalue/store@0.2.0-draft",
                             "wasi:keyvalue/atomics@0.2.0-draft"})
    if (all.find(needed) == std::string::npos)
      return Error{std::string("wit/: the world must import ") + needed +
                   " (fn0's JS runtime reads env and env.KV through wasi:cli/environment and wasi:keyvalue): add "
                   "`import wasi:cli/environment@0.2.10;`, `import wasi:keyvalue/store@0.2.0-draft;` and "
                   "`import wasi:keyvalue/atomics@0.2.0-draft;` to your world next to "
                   "`include wasi:http/proxy@0.2.10;`"};
  return {};
}

}  // namespace

Result<fs::path> witFolder(const Project& p, const fs::path& work) {
  const fs::path fn0Wit = p.isJs() ? layout().witJs : layout().witC;
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
  const fs::path js = layout().jsTools;
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
  const Language* lang = findLanguage(p.language);
  if (!lang) return Error{"fn0.toml: unknown language '" + p.language + "' (fn0 knows " + languageNames() + ")"};
  if (auto missing = lang->check(); !missing.empty()) {
    std::string msg = "cannot build " + lang->title + ": its toolchain is not installed here:";
    for (const auto& m : missing) msg += "\n  missing " + m.what + "\n    fix: " + m.fix;
    msg += "\n(`fn0 doctor` checks every language)";
    return Error{msg, "toolchain-missing"};
  }
  const fs::path work = fs::absolute(p.workDir());
  fs::create_directories(work);
  const fs::path out = fs::absolute(p.outputPath());
  fs::create_directories(out.parent_path());
  if (!fs::exists(p.dir / p.entry)) return Error{"fn0.toml: entry " + p.entry + " does not exist"};
  return lang->build(p, work, out);
}

}  // namespace fn0::cli
