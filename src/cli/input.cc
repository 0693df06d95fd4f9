#include "cli/input.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>

#include "registry/registry.h"

namespace fn0::cli {

namespace fs = std::filesystem;

std::string normalizeName(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80)
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

Result<void> checkFunctionName(const std::string& name) {
  if (registry::isDnsLabel(name)) return {};
  std::string shown = name.size() > 80 ? name.substr(0, 80) + "…" : name;
  std::string msg = "invalid function name '" + shown + "': " + registry::kFunctionNameRule;
  if (auto n = normalizeName(name); !n.empty()) msg += "; try '" + n + "'";
  return Error{msg, "invalid-name"};
}

namespace {

// Edits between a and b, a swap of neighbours counting as one (optimal
// string alignment).
size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); i++) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); j++) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); i++)
    for (size_t j = 1; j <= b.size(); j++) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string nearest(std::string_view typed, const std::vector<std::string>& candidates) {
  if (typed.empty() || typed.size() > 64) return "";
  const std::string t = lower(typed);
  std::string best;
  size_t bestDistance = SIZE_MAX;
  for (const auto& c : candidates) {
    const size_t d = distance(t, lower(c));
    if (d < bestDistance) bestDistance = d, best = c;
  }
  // Two edits for longer words, one for short ones: "lsit" is list, "xy" is nothing.
  const size_t allowed = t.size() >= 5 ? 2 : 1;
  if (bestDistance <= allowed && bestDistance < t.size()) return best;
  std::string prefixed;
  for (const auto& c : candidates)
    if (t.size() >= 2 && lower(c).rfind(t, 0) == 0) {
      if (!prefixed.empty()) return "";  // the start of more than one
      prefixed = c;
    }
  return prefixed;
}

namespace {

struct SourceKind {
  const char* extensions;  // space-separated, with dots
  const char* language;
  const char* fnTemplate;  // "" when fn0 new has none
  const char* howToBuild;  // for languages without a template
};

const std::array<SourceKind, 7> kSources = {{
    {".js .mjs .cjs .jsx", "JavaScript", "js", ""},
    {".ts .mts .cts .tsx", "TypeScript", "ts", ""},
    {".c .h", "C", "c", ""},
    {".py", "Python", "", "e.g. with componentize-py"},
    {".go", "Go", "", "e.g. `tinygo build -target=wasip2`"},
    {".rs", "Rust", "", "e.g. `cargo build --target wasm32-wasip2`"},
    {".wat", "WebAssembly text", "", "e.g. `wasm-tools parse FILE.wat -o FILE.wasm`"},
}};

// The fn0.toml above `file` (its folder or the one above), "" if none.
fs::path projectAbove(const fs::path& file) {
  std::error_code ec;
  fs::path dir = fs::absolute(file, ec).parent_path();
  for (int up = 0; up < 2 && !dir.empty(); up++, dir = dir.parent_path())
    if (fs::exists(dir / "fn0.toml", ec)) return dir;
  return {};
}

}  // namespace

Result<void> checkComponentFile(const fs::path& file) {
  const std::string shown = file.filename().string();
  const std::string ext = lower(file.extension().string());
  for (const auto& k : kSources) {
    const std::string list = std::string(" ") + k.extensions + " ";
    if (ext.empty() || list.find(" " + ext + " ") == std::string::npos) continue;
    std::string msg = shown + " is " + k.language + " source, not a component: ";
    if (*k.fnTemplate) {
      const fs::path project = projectAbove(file);
      if (!project.empty())
        msg += "run `fn0 deploy` in " + project.string() + " (its fn0.toml says how to build it)";
      else
        msg += std::string("run `fn0 deploy` in a project folder (fn0.toml), or `fn0 new NAME --template ") +
               k.fnTemplate + "` to make one";
    } else {
      msg += std::string("build a wasi:http/proxy component from it first (") + k.howToBuild +
             "), then `fn0 deploy FILE.wasm --name NAME`";
    }
    return Error{msg, "source-file"};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read " + file.string(), "unreadable"};
  std::array<unsigned char, 8> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const auto got = static_cast<size_t>(in.gcount());
  if (got == 0) return Error{shown + " is empty, not a component", "not-wasm"};
  if (got < 8 || head[0] != 0 || head[1] != 'a' || head[2] != 's' || head[3] != 'm')
    return Error{shown + " is not a WebAssembly file (a component starts with \\0asm): deploy the .wasm your build "
                         "wrote, or run `fn0 deploy` in a project folder (fn0.toml)",
                 "not-wasm"};
  if (head[4] == 1 && head[5] == 0 && head[6] == 0 && head[7] == 0)
    return Error{shown + " is a core WebAssembly module, not a component: fn0 runs wasi:http/proxy components. "
                         "Build for wasm32-wasip2, or wrap a WASI module with `wasm-tools component new " +
                     shown + " --adapt wasi_snapshot_preview1=ADAPTER.wasm -o app.component.wasm`",
                 "core-module"};
  // A component (0x0d 0x00 0x01 0x00), or a layer this fn0 does not know:
  // the node's compiler is the judge.
  return {};
}

}  // namespace fn0::cli
