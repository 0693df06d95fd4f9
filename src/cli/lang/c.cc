// C: wit-bindgen's C bindings of the project's world, clang for
// wasm32-wasi (Debian's wasi-libc), the preview1 reactor adapter.
#include <filesystem>

#include "cli/build.h"
#include "cli/lang/language.h"
#include "cli/lang/layout.h"
#include "cli/tool.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

Result<fs::path> buildC(const Project& p, const fs::path& work, const fs::path& out) {
  const fs::path gen = work / "gen";
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  if (auto r = runTool({toolPath("wit-bindgen"), "c", "--world", "c-handler", "--out-dir", gen.string(), wit->string()});
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
  if (auto r = componentFromCore(work / "core.wasm", out); !r) return r.error();
  return out;
}

}  // namespace

std::vector<Missing> wasmCToolchainMissing() {
  const std::string apt = std::string("apt-get install ") + FN0_WASM_CLANG + " lld-" + FN0_CLANG_VERSION +
                          " libclang-rt-" + FN0_CLANG_VERSION + "-dev-wasm32 wasi-libc";
  return missingOf({needProgram(FN0_WASM_CLANG, apt), needPath("/usr/include/wasm32-wasi/stdio.h", "wasi-libc", apt),
                    needProgram(toolPath("wit-bindgen"), setupFix()), needProgram(toolPath("wasm-tools"), setupFix()),
                    needPath(layout().preview1Reactor, "the WASI preview1 adapter", setupFix())});
}

Language cLanguage() {
  return {"c", "C", "clang for wasm32-wasi, wit-bindgen c", wasmCToolchainMissing, buildC};
}

}  // namespace fn0::cli
