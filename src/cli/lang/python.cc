// Python: componentize-py (pinned, in a venv under fn0's cache) generates the
// `wit_world` bindings of wasi:http/proxy and embeds CPython, the project's
// modules and the bindings in one component (pre-initialised: the imports
// already ran). It compiles the sources it embeds and writes __pycache__
// beside them, so it reads a copy under build/, never the project folder
// (fn0 dev would see the .pyc files as changes). Its output differs from run
// to run, so a build whose inputs did not change keeps the last component.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "cli/build.h"
#include "cli/files.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"
#include "cli/tool.h"
#include "common/sha256.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

// wasi:http/proxy and the key-value interfaces (wit/fn0/world.wit, in the
// WIT folder's deps).
constexpr const char* kWorld = "fn0:platform/handler";

bool skippedFolder(const fs::path& dir, const Project& p) {
  const std::string name = dir.filename().string();
  if (name == "build" || name == "node_modules" || name == "__pycache__" || name == "venv") return true;
  if (name.size() > 1 && name[0] == '.') return true;
  std::error_code ec;
  return !p.buildDir.empty() && fs::equivalent(dir, p.buildDir, ec);
}

// The project's .py files (relative paths, sorted), outside build/, venvs and
// dot-folders.
std::vector<fs::path> pythonSources(const Project& p) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(p.dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) {
      if (skippedFolder(it->path(), p)) it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() == ".py") out.push_back(fs::relative(it->path(), p.dir));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Everything the component depends on: the sources, the WIT, the tool.
std::string inputsKey(const Project& p, const std::vector<fs::path>& sources, const fs::path& wit) {
  std::string in = std::string("fn0-python-build-v1\n") + layout().componentizePy.string() + "\n" + p.entry + "\n";
  for (const auto& s : sources) in += s.string() + '\0' + readFile(p.dir / s) + '\0';
  std::vector<fs::path> wits;
  for (const auto& e : fs::recursive_directory_iterator(wit))
    if (e.path().extension() == ".wit") wits.push_back(e.path());
  std::sort(wits.begin(), wits.end());
  for (const auto& w : wits) in += fs::relative(w, wit).string() + '\0' + readFile(w) + '\0';
  return sha256Hex({reinterpret_cast<const uint8_t*>(in.data()), in.size()});
}

Result<fs::path> buildPython(const Project& p, const fs::path& work, const fs::path& out) {
  const fs::path entry = p.entry;
  if (entry.extension() != ".py") return Error{"fn0.toml: entry must be a .py file (the module that defines IncomingHandler)"};
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  const auto sources = pythonSources(p);
  const std::string key = inputsKey(p, sources, *wit);
  const fs::path stamp = work / "component.inputs";
  if (unchangedSinceLastBuild(out, stamp, key)) return out;
  std::error_code ec;
  const fs::path py = work / "python", src = py / "src", bindings = py / "bindings", tmp = py / "tmp";
  fs::remove_all(src, ec);
  fs::remove_all(bindings, ec);
  for (const auto& s : sources) {
    fs::create_directories((src / s).parent_path());
    fs::copy_file(p.dir / s, src / s, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error{"cannot copy " + s.string() + " to " + src.string() + ": " + ec.message()};
  }
  fs::create_directories(tmp);
  const std::string tool = layout().componentizePy.string();
  const std::string witDir = fs::absolute(*wit).string();
  const std::map<std::string, std::string> env = {{"TMPDIR", tmp.string()}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  if (auto r = runTool({tool, "-d", witDir, "-w", kWorld, "bindings", bindings.string()}, env); !r) return r.error();
  fmt::print(stderr, "fn0 build: componentize-py is embedding the app in CPython (15-30 s)...\n");
  const fs::path partial = out.string() + ".partial";
  std::vector<std::string> argv = {tool, "-d", witDir, "-w", kWorld, "componentize"};
  // The entry's folder first (its neighbours import as top-level modules).
  if (entry.has_parent_path()) argv.insert(argv.end(), {"-p", (src / entry.parent_path()).string()});
  argv.insert(argv.end(), {"-p", src.string(), "-p", bindings.string(), entry.stem().string(), "-o", partial.string()});
  if (auto r = runTool(argv, env, py); !r) return r.error();
  fs::rename(partial, out, ec);
  if (ec) return Error{"cannot write " + out.string() + ": " + ec.message()};
  writeStamp(stamp, key);
  return out;
}

std::vector<Missing> pythonMissing() {
  // Installed, componentize-py is a package next to fn0 that the system's
  // python3 runs (its extension is built for any CPython 3).
  if (layout().installed)
    return missingOf({needProgram("python3", "apt-get install python3"),
                      needProgram(layout().componentizePy.string(),
                                  setupFix() + " after `make setup` there (it copies componentize-py in)")});
  return missingOf({needProgram(layout().componentizePy.string(), setupFix() + " (it makes a venv with componentize-py; "
                                                                              "a fresh Debian needs apt-get install python3-venv)")});
}

}  // namespace

Language pythonLanguage() {
  return {"python", "Python", "componentize-py (CPython 3.14 in the component)", pythonMissing, buildPython};
}

}  // namespace fn0::cli
