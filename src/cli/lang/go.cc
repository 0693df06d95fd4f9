// Go: big Go (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared: a reactor
// module), wit-bindgen's Go bindings of wasi:http/proxy, then the component
// with wasm-tools and the preview1 reactor adapter. Everything it writes is
// under the build folder (the project's build/ unless --build-dir):
//   build/wit/             the bindings, module `wit` (imports/..., exports/...),
//                          plus serve.go, the bridge the program registers its
//                          handler with (the export package is the bindings')
//   build/go-wit-runtime/  go.bytecodealliance.org/pkg, the runtime the
//                          bindings use (setup.sh takes it from the
//                          wit-bindgen-go crate: it is not on the Go proxy)
//   build/.fn0/go.mod      the project's go.mod with both replaces pointed at
//                          those folders (go build -modfile), so the build
//                          does not depend on what the project's replaces say
// Incremental builds come from Go's own build cache (GOCACHE, by default
// ~/.cache/go-build); unchanged bindings are not rewritten.
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

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
constexpr const char* kBindingsModule = "wit";
constexpr const char* kRuntimeModule = "go.bytecodealliance.org/pkg";
constexpr int kMinGoMinor = 25;  // the runtime's go.mod says `go 1.25`; go:wasmexport needs 1.24

// The export package of the bindings is where wit-bindgen expects the
// handler; it forwards to the function the program registers (fn0.go in the
// template), so the program itself stays an ordinary main package.
constexpr const char* kBridge = R"go(// Written by `fn0 build`. The component's wasi:http/incoming-handler export
// (../wit_exports, generated) calls Handle for every request; Handle passes it
// to the function the program registered with Serve.
package export_wasi_http_incoming_handler

import "wit/imports/wasi_http_types"

var handler func(*wasi_http_types.IncomingRequest, *wasi_http_types.ResponseOutparam)

// Serve sets the function that handles every request (call it from init).
func Serve(h func(request *wasi_http_types.IncomingRequest, responseOut *wasi_http_types.ResponseOutparam)) {
	handler = h
}

func Handle(request *wasi_http_types.IncomingRequest, responseOut *wasi_http_types.ResponseOutparam) {
	if handler == nil {
		panic("no request handler: call export_wasi_http_incoming_handler.Serve from init()")
	}
	handler(request, responseOut)
}
)go";

// "go1.26.8" -> 26 (the minor version of Go 1.x), -1 when unreadable.
int goMinor(const std::string& version) {
  unsigned major = 0, minor = 0;
  if (std::sscanf(version.c_str(), "go%u.%u", &major, &minor) != 2 || major != 1) return -1;
  return static_cast<int>(minor);
}

struct GoCommand {
  std::string path, version;
};

// `go` on PATH, else /usr/local/go/bin/go (the official tarball's place): the
// first one that is Go 1.25 or newer. `found` lists what was seen, for the fix.
std::optional<GoCommand> findGo(std::string& found) {
  for (const std::string candidate : {"go", "/usr/local/go/bin/go"}) {
    if (needProgram(candidate, "")) continue;
    std::string out;
    if (!runToolQuiet({candidate, "env", "GOVERSION"}, out)) continue;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (goMinor(out) >= kMinGoMinor) return GoCommand{candidate, out};
    found += (found.empty() ? "" : ", ") + candidate + " is " + out;
  }
  return std::nullopt;
}

std::vector<Missing> goMissing() {
  std::vector<Missing> out;
  std::string found;
  if (!findGo(found))
    out.push_back({"Go 1." + std::to_string(kMinGoMinor) + " or newer (" +
                       (found.empty() ? "neither `go` on PATH nor /usr/local/go/bin/go" : found) + ")",
                   "install Go from https://go.dev/dl/ (tar -C /usr/local -xzf go1.26.*.linux-amd64.tar.gz) "
                   "or put a Go >= 1.25 first on PATH"});
  for (auto& m : missingOf({needProgram(toolPath("wit-bindgen"), setupFix()),
                            needPath(layout().goWitRuntime / "go.mod",
                                     "the Go runtime of wit-bindgen's bindings (go.bytecodealliance.org/pkg)",
                                     setupFix()),
                            needProgram(toolPath("wasm-tools"), setupFix()),
                            needPath(layout().preview1Reactor, "the WASI preview1 adapter", setupFix())}))
    out.push_back(m);
  return out;
}

// The bindings of the world in <root>/wit (module `wit`), regenerated only
// when the WIT or the generator changed.
Result<void> writeBindings(const fs::path& wit, const fs::path& dir, const fs::path& stamp, const GoCommand& go) {
  std::string inputs = layout().goWitRuntime.string() + "\n" + kBridge;
  for (const auto& e : fs::recursive_directory_iterator(wit))
    if (e.path().extension() == ".wit") inputs += e.path().lexically_relative(wit).string() + "\n" + readFile(e.path());
  const std::string key = sha256Hex({reinterpret_cast<const uint8_t*>(inputs.data()), inputs.size()});
  if (fs::exists(dir / "go.mod") && readFile(stamp) == key) return {};
  std::error_code ec;
  fs::remove(stamp, ec);
  fs::remove_all(dir, ec);
  // gofmt (next to go) formats the generated code when it is on PATH.
  const char* path = std::getenv("PATH");
  const std::string goBin = go.path.find('/') == std::string::npos ? "" : fs::path(go.path).parent_path().string() + ":";
  if (auto r = runToolQuiet({toolPath("wit-bindgen"), "go", "-w", kWorld, "--pkg-name", kBindingsModule, "--out-dir",
                             dir.string(), wit.string()},
                            inputs, {{"PATH", goBin + (path ? path : "/usr/bin:/bin")}});
      !r)
    return Error{"wit-bindgen go failed:\n" + inputs};
  std::ofstream(dir / "go.mod") << "// Written by `fn0 build`: the Go bindings of " << kWorld << ".\nmodule "
                                << kBindingsModule << "\n\ngo 1.25\n\nrequire " << kRuntimeModule << " v0.4.0\n";
  fs::create_directories(dir / "exports/export_wasi_http_incoming_handler");
  std::ofstream(dir / "exports/export_wasi_http_incoming_handler/serve.go") << kBridge;
  std::ofstream(stamp) << key;
  return {};
}

Result<fs::path> buildGo(const Project& p, const fs::path& work, const fs::path& out) {
  std::string found;
  const auto go = findGo(found);
  if (!go) return Error{"no Go 1.25 or newer found"};
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  const fs::path root = work.parent_path();  // build/
  const fs::path bindings = root / "wit", runtime = root / "go-wit-runtime";
  if (auto r = writeBindings(*wit, bindings, work / "bindings.inputs", *go); !r) return r.error();
  std::error_code ec;
  if (readFile(runtime / "go.mod") != readFile(layout().goWitRuntime / "go.mod") ||
      !fs::exists(runtime / "wit/runtime/runtime.go")) {
    fs::remove_all(runtime, ec);
    fs::copy(layout().goWitRuntime, runtime, fs::copy_options::recursive, ec);
    if (ec) return Error{"cannot copy the Go runtime to " + runtime.string() + ": " + ec.message()};
  }
  if (!fs::exists(p.dir / "go.mod")) return Error{"go.mod missing in " + p.dir.string() + " (see `fn0 new --template go`)"};
  const fs::path modfile = work / "go.mod";
  fs::copy_file(p.dir / "go.mod", modfile, fs::copy_options::overwrite_existing, ec);
  if (fs::exists(p.dir / "go.sum")) fs::copy_file(p.dir / "go.sum", work / "go.sum", fs::copy_options::overwrite_existing, ec);
  if (ec) return Error{"cannot copy go.mod to " + work.string() + ": " + ec.message()};
  if (auto r = runTool({go->path, "mod", "edit", "-replace=" + std::string(kBindingsModule) + "=" + bindings.string(),
                        "-replace=" + std::string(kRuntimeModule) + "=" + runtime.string(), modfile.string()});
      !r)
    return r.error();
  // The package the entry file is in (the project's root for main.go).
  const fs::path pkg = fs::path(p.entry).parent_path();
  const fs::path core = work / "core.wasm", embedded = work / "embedded.wasm";
  if (auto r = runTool({go->path, "build", "-modfile=" + modfile.string(), "-buildmode=c-shared", "-trimpath",
                        "-ldflags=-s -checklinkname=0", "-o", core.string(), "./" + pkg.string()},
                       {{"GOOS", "wasip1"}, {"GOARCH", "wasm"}, {"GOWORK", "off"}}, p.dir);
      !r)
    return r.error();
  if (auto r = runTool({toolPath("wasm-tools"), "component", "embed", wit->string(), "-w", kWorld, core.string(), "-o",
                        embedded.string()});
      !r)
    return r.error();
  if (auto r = componentFromCore(embedded, out); !r) return r.error();
  return out;
}

}  // namespace

Language goLanguage() {
  return {"go", "Go", "Go (GOOS=wasip1) with wit-bindgen go, the preview1 reactor adapter", goMissing, buildGo};
}

}  // namespace fn0::cli
