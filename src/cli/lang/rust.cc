// Rust: Debian's rustc/cargo (rustc-web, cargo-web) build std from its
// sources (rust-web-src) for wasm32-wasip1 (-Z build-std, allowed on a stable
// compiler by RUSTC_BOOTSTRAP=1: rustup cannot add the wasm target here),
// clang-16 links it against Debian's wasi-libc as a reactor, and the preview1
// reactor adapter makes it a component. The crate `wasip2` gives the
// wasi:http bindings and the proxy export macro. Everything is passed on the
// command line, so the project stays a plain cargo crate; the cargo target
// dir is <build dir>/target, so a rebuild compiles only what changed. With
// FN0_RUST_TARGET_DIR set (the repository's build and tests set it to
// ~/.cache/fn0/rust-target) it is <that>/<crate>: std and the dependencies
// compile once per machine, not once per fresh project copy.
#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>

#include "cli/build.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"
#include "cli/tool.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

// Debian's toolchain, by absolute path: rustup's ~/.cargo/bin comes first on
// PATH and its proxies would pick rustup's toolchain (no wasm std here).
constexpr const char* kCargo = "/usr/bin/cargo";
constexpr const char* kRustc = "/usr/bin/rustc";
// Where build-std finds std's sources: <rustc --print sysroot>/lib/rustlib/src/rust.
constexpr const char* kStdSources = "/usr/lib/rustlib/src/rust/library/Cargo.lock";
constexpr const char* kTarget = "wasm32-wasip1";

// The cdylib cargo writes: [lib] name, else the package name, '-' -> '_'.
Result<std::string> libName(const fs::path& manifest) {
  toml::table t;
  try {
    t = toml::parse_file(manifest.string());
  } catch (const toml::parse_error& e) {
    return Error{manifest.string() + ": " + std::string(e.description())};
  }
  auto name = t["lib"]["name"].value<std::string>();
  if (!name) name = t["package"]["name"].value<std::string>();
  if (!name) return Error{manifest.string() + ": no [package] name"};
  std::string n = *name;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

Result<fs::path> buildRust(const Project& p, const fs::path& work, const fs::path& out) {
  const fs::path manifest = fs::absolute(p.dir / "Cargo.toml");
  if (!fs::exists(manifest)) return Error{"a Rust project needs a Cargo.toml next to fn0.toml"};
  auto lib = libName(manifest);
  if (!lib) return lib.error();
  const char* shared = std::getenv("FN0_RUST_TARGET_DIR");
  const fs::path targetDir = shared && *shared ? fs::path(shared) / *lib : work.parent_path() / "target";
  // `cargo rustc` gives the link arguments to the final cdylib only, so the
  // user's own RUSTFLAGS or [build] rustflags still apply and cannot drop them.
  std::vector<std::string> argv = {kCargo, "rustc", "--release", "--lib", "--crate-type", "cdylib",
                                   "--manifest-path", manifest.string(), "--target", kTarget,
                                   "-Z", "build-std=std,panic_abort", "--target-dir", targetDir.string(),
                                   "--", "-C", "link-self-contained=no",
                                   // clang-16 as the linker driver: Debian's wasi-libc, a reactor (no main).
                                   "-C", "link-arg=--target=wasm32-wasi", "-C", "link-arg=-mexec-model=reactor"};
  const std::map<std::string, std::string> env = {
      {"RUSTC", kRustc},
      {"RUSTC_BOOTSTRAP", "1"},  // -Z build-std on a stable compiler
      {"CARGO_TARGET_WASM32_WASIP1_LINKER", FN0_WASM_CLANG},
      // A toolchain path: whatever rustup set (fn0 run from a rustup cargo),
      // a rustup proxy (`rustc` on PATH) anything runs is Debian's toolchain.
      {"RUSTUP_TOOLCHAIN", "/usr"},
  };
  if (auto r = runTool(argv, env, p.dir); !r) return Error{"cargo failed (its output is above)"};
  const fs::path core = targetDir / kTarget / "release" / (*lib + ".wasm");
  if (!fs::exists(core)) return Error{"cargo built no " + core.string() + " (is the crate a cdylib?)"};
  if (auto r = componentFromCore(core, out); !r) return r.error();
  return out;
}

std::vector<Missing> rustMissing() {
  const std::string apt = "apt-get install rustc-web cargo-web (Debian bookworm-security)";
  const std::string clang = std::string("apt-get install ") + FN0_WASM_CLANG + " lld-" + FN0_CLANG_VERSION +
                            " libclang-rt-" + FN0_CLANG_VERSION + "-dev-wasm32 wasi-libc";
  return missingOf({needProgram(kCargo, apt), needProgram(kRustc, apt),
                    needPath(kStdSources, "the Rust standard library sources (rust-web-src)",
                             "apt-get install rust-web-src"),
                    needProgram(FN0_WASM_CLANG, clang),
                    needPath("/usr/include/wasm32-wasi/stdio.h", "wasi-libc", clang),
                    needProgram(toolPath("wasm-tools"), setupFix()),
                    needPath(layout().preview1Reactor, "the WASI preview1 adapter", setupFix())});
}

}  // namespace

Language rustLanguage() {
  return {"rust", "Rust", "Debian's rustc + cargo (-Z build-std, wasm32-wasip1), crate wasip2", rustMissing,
          buildRust};
}

}  // namespace fn0::cli
