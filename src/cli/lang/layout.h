// Where the toolchain files fn0 brings along are (fn0's own WIT, the WASI
// preview1 adapter, wit-bindgen, wasm-tools, esbuild + componentize-js, the
// Go bindings' runtime, componentize-py). Two layouts:
// - installed (`make install`): everything relative to the executable,
//   <prefix>/bin/fn0 -> <prefix>/{libexec,share,lib}/fn0, so the prefix can
//   be moved or copied to another machine;
// - build tree (build/fn0 in a checkout): the paths the build compiled in
//   (the checkout's tools/js, build/examples/wit-*, ~/.cache/fn0 from
//   scripts/setup.sh), so a developer's rebuilt fn0 uses what setup.sh and
//   the build just made.
// System toolchains (clang-16, wasi-libc, node, go, Debian's cargo) are
// looked up where the system keeps them in both.
#pragma once

#include <filesystem>
#include <string>

namespace fn0::cli {

struct Layout {
  bool installed = false;
  std::filesystem::path root;             // the prefix, or the folder fn0 runs from
  std::filesystem::path toolsBin;         // wit-bindgen, wasm-tools
  std::filesystem::path jsTools;          // node_modules/.bin/{esbuild,componentize-js}, preopen.mjs
  std::filesystem::path witC;             // the WIT C, C++, Rust, Go and Python guests build against
  std::filesystem::path witJs;            // the WIT JS and TS guests build against
  std::filesystem::path preview1Reactor;  // wasi_snapshot_preview1.reactor.wasm
  std::filesystem::path goWitRuntime;     // go.bytecodealliance.org/pkg
  std::filesystem::path componentizePy;   // the componentize-py command
};

// The file whose presence at <prefix>/share/fn0/ marks an installed fn0: the
// pinned versions (scripts/versions.env) it was installed with.
inline constexpr const char* kInstalledMarker = "versions.env";

// The layout of an fn0 whose executable is `executable`: installed when
// <its folder>/../share/fn0/versions.env exists, else the build tree's.
Layout layoutFor(const std::filesystem::path& executable);

// This process's layout (from /proc/self/exe), worked out once.
const Layout& layout();

// What `fn0 doctor` and a failed build tell to run when one of fn0's own
// tools is missing: reinstall, or setup.sh in the checkout.
std::string setupFix();

}  // namespace fn0::cli
