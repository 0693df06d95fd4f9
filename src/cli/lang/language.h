// The languages fn0 projects are written in: each one's template
// (templates/<name>/, embedded in the binary), the toolchain check
// `fn0 doctor` and `fn0 build` run, and the build that turns the project into
// a wasi:http component. One file per language in this folder; the table is
// in language.cc.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/project.h"
#include "common/result.h"

namespace fn0::cli {

// What is missing for a language, and the command that installs it.
struct Missing {
  std::string what;  // "clang-16 (/usr/bin/clang-16 not found)"
  std::string fix;   // "apt-get install clang-16" or "make setup"
};

struct Language {
  std::string name;   // fn0.toml `language`, `fn0 new --template`
  std::string title;  // "Rust"
  std::string how;    // the toolchain in a few words, for `fn0 doctor`
  // Empty when every tool the build needs is installed.
  std::function<std::vector<Missing>()> check;
  // Builds the project into `out`; intermediate files under `work`
  // (<build dir>/.fn0). Tools' output goes to stderr.
  std::function<Result<std::filesystem::path>(const Project&, const std::filesystem::path& work,
                                              const std::filesystem::path& out)>
      build;
};

const std::vector<Language>& languages();
const Language* findLanguage(std::string_view name);
// "js, ts, c, rust, ..." in table order.
std::string languageNames();

// The languages, one function each (lang/<name>.cc).
Language jsLanguage();
Language tsLanguage();
Language cLanguage();
Language cppLanguage();
Language rustLanguage();
Language pythonLanguage();
Language goLanguage();

// ---- shared by the language files -----------------------------------------

// An executable at `path` (or, without a slash, on PATH); else a Missing.
std::optional<Missing> needProgram(const std::string& path, const std::string& fix);
// A file or folder that must exist.
std::optional<Missing> needPath(const std::filesystem::path& path, const std::string& what, const std::string& fix);
// Collects the non-empty ones.
std::vector<Missing> missingOf(std::initializer_list<std::optional<Missing>> items);

// clang for wasm32-wasi, wasi-libc, wit-bindgen, wasm-tools and the adapter
// (C and C++ need them all; other languages some).
std::vector<Missing> wasmCToolchainMissing();

// wasm-tools component new <core> --adapt <preview1 reactor adapter> -o <out>.
Result<void> componentFromCore(const std::filesystem::path& core, const std::filesystem::path& out);

// One of fn0's pinned tools (wit-bindgen, wasm-tools): where layout() says.
std::string toolPath(const std::string& name);

}  // namespace fn0::cli
