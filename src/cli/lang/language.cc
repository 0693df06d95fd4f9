#include "cli/lang/language.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "cli/lang/layout.h"
#include "cli/tool.h"

namespace fn0::cli {

namespace fs = std::filesystem;

const std::vector<Language>& languages() {
  static const std::vector<Language> all = {jsLanguage(),   tsLanguage(),     cLanguage(), cppLanguage(),
                                            rustLanguage(), pythonLanguage(), goLanguage()};
  return all;
}

const Language* findLanguage(std::string_view name) {
  for (const auto& l : languages())
    if (l.name == name) return &l;
  return nullptr;
}

std::string languageNames() {
  std::string out;
  for (const auto& l : languages()) out += (out.empty() ? "" : ", ") + l.name;
  return out;
}

namespace {

bool executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); }

std::optional<fs::path> onPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && executable(fs::path(d) / name)) return fs::path(d) / name;
  return std::nullopt;
}

}  // namespace

std::optional<Missing> needProgram(const std::string& path, const std::string& fix) {
  if (path.find('/') != std::string::npos) {
    if (executable(path)) return std::nullopt;
    return Missing{path + " (not found)", fix};
  }
  if (onPath(path)) return std::nullopt;
  return Missing{path + " (not on PATH)", fix};
}

std::optional<Missing> needPath(const fs::path& path, const std::string& what, const std::string& fix) {
  std::error_code ec;
  if (fs::exists(path, ec)) return std::nullopt;
  return Missing{what + " (" + path.string() + " not found)", fix};
}

std::vector<Missing> missingOf(std::initializer_list<std::optional<Missing>> items) {
  std::vector<Missing> out;
  for (const auto& m : items)
    if (m) out.push_back(*m);
  return out;
}

Result<void> componentFromCore(const fs::path& core, const fs::path& out) {
  return runTool({toolPath("wasm-tools"), "component", "new", core.string(), "--adapt",
                  "wasi_snapshot_preview1=" + layout().preview1Reactor.string(), "-o", out.string()});
}

std::string toolPath(const std::string& name) { return (layout().toolsBin / name).string(); }

}  // namespace fn0::cli
