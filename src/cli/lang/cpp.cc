// C++: wit-bindgen's C++ bindings of wasi:http/proxy (std::expected, so
// C++23 without exceptions), clang++ for wasm32-wasi with Debian's libc++,
// the preview1 reactor adapter. Incremental: each source compiles to its own
// object under build/ (recompiled when it or a header it includes changed,
// from clang's dependency files), the bindings are rewritten only when they
// change, and nothing is linked when no object changed.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/build.h"
#include "cli/files.h"
#include "cli/lang/language.h"
#include "cli/tool.h"
#include "common/sha256.h"

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLibcxxInclude = "/usr/include/wasm32-wasi/c++/v1";

std::string clangxx() { return std::string("clang++-") + FN0_CLANG_VERSION; }

std::vector<std::string> compileFlags(const Project& p, const fs::path& gen) {
  return {"--target=wasm32-wasi", "-Os", "-std=c++2b", "-fno-exceptions", "-nostdinc++",
          "-isystem", kLibcxxInclude, "-I" + gen.string(), "-I" + fs::absolute(p.dir / "src").string()};
}

// wit-bindgen into `gen`, touching only the files whose text changed (their
// times decide what recompiles).
Result<void> generateBindings(const fs::path& wit, const fs::path& gen) {
  const fs::path fresh = gen.string() + ".new";
  std::error_code ec;
  fs::remove_all(fresh, ec);
  if (auto r = runTool({toolPath("wit-bindgen"), "cpp", "-w", "wasi:http/proxy@0.2.12", "--out-dir", fresh.string(),
                        wit.string()});
      !r)
    return r.error();
  fs::create_directories(gen);
  for (const auto& e : fs::directory_iterator(fresh)) {
    const fs::path dest = gen / e.path().filename();
    if (fs::exists(dest) && readFile(dest) == readFile(e.path())) continue;
    fs::copy_file(e.path(), dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error{"cannot write " + dest.string() + ": " + ec.message()};
  }
  fs::remove_all(fresh, ec);
  return {};
}

// The files a clang -MMD dependency file lists (the object's inputs).
std::vector<fs::path> depsOf(const fs::path& depfile) {
  std::string text = readFile(depfile);
  std::vector<fs::path> out;
  const auto colon = text.find(": ");
  if (colon == std::string::npos) return out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.emplace_back(word);
    word.clear();
  };
  for (size_t i = colon + 2; i < text.size(); i++) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == ' ') {
      word += ' ';
      i++;
    } else if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      i++;
    } else if (c == ' ' || c == '\n') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

// An object is stale when it is missing or older than one of its inputs.
bool stale(const fs::path& object, const fs::path& depfile) {
  std::error_code ec;
  if (!fs::exists(object) || !fs::exists(depfile)) return true;
  const auto built = fs::last_write_time(object, ec);
  const auto deps = depsOf(depfile);
  if (deps.empty()) return true;
  for (const auto& d : deps) {
    const auto t = fs::last_write_time(d, ec);
    if (ec || t > built) return true;
  }
  return false;
}

Result<fs::path> buildCpp(const Project& p, const fs::path& work, const fs::path& out) {
  const fs::path cpp = work / "cpp", gen = cpp / "gen", obj = cpp / "obj";
  auto wit = witFolder(p, work);
  if (!wit) return wit.error();
  if (auto r = generateBindings(*wit, gen); !r) return r.error();
  const auto flags = compileFlags(p, gen);
  // Other flags (another fn0, another project folder): start over.
  std::string flagText = clangxx();
  for (const auto& f : flags) flagText += " " + f;
  const fs::path flagStamp = cpp / "flags";
  std::error_code ec;
  if (readFile(flagStamp) != flagText) {
    fs::remove_all(obj, ec);
    fs::create_directories(obj);
    std::ofstream(flagStamp, std::ios::binary) << flagText;
  }
  std::vector<fs::path> sources;
  for (const auto& e : fs::recursive_directory_iterator(p.dir / "src")) {
    const auto ext = e.path().extension();
    if (ext == ".cpp" || ext == ".cc" || ext == ".cxx") sources.push_back(fs::absolute(e.path()));
  }
  std::sort(sources.begin(), sources.end());
  sources.push_back(gen / "proxy.cpp");
  std::vector<std::string> link = {clangxx(), "--target=wasm32-wasi", "-mexec-model=reactor", "-Os", "-o",
                                   (cpp / "core.wasm").string()};
  int compiled = 0;
  std::vector<fs::path> objects;
  for (const auto& s : sources) {
    // src/a/b.cpp -> obj/src_a_b.cpp.o (gen/proxy.cpp -> obj/proxy.cpp.o)
    std::string stem = s.parent_path() == gen ? s.filename().string() : fs::relative(s, p.dir).string();
    std::replace(stem.begin(), stem.end(), '/', '_');
    const fs::path o = obj / (stem + ".o"), d = obj / (stem + ".d");
    objects.push_back(o);
    link.push_back(o.string());
    if (!stale(o, d)) continue;
    std::vector<std::string> cc = {clangxx()};
    cc.insert(cc.end(), flags.begin(), flags.end());
    cc.insert(cc.end(), {"-MMD", "-MF", d.string(), "-c", s.string(), "-o", o.string()});
    if (auto r = runTool(cc); !r) {
      fs::remove(o, ec);
      return r.error();
    }
    compiled++;
  }
  // An object removed with its source also means relinking.
  std::string objectList;
  for (const auto& o : objects) objectList += o.string() + "\n";
  const fs::path listStamp = cpp / "objects";
  if (compiled == 0 && fs::exists(out) && readFile(listStamp) == objectList) {
    fmt::print(stderr, "fn0 build: nothing changed since the last build: {}\n", out.string());
    return out;
  }
  fs::remove(listStamp, ec);
  link.push_back((gen / "proxy_component_type.o").string());
  link.push_back("-Wl,--strip-all");
  if (auto r = runTool(link); !r) return r.error();
  if (auto r = componentFromCore(cpp / "core.wasm", out); !r) return r.error();
  std::ofstream(listStamp, std::ios::binary) << objectList;
  return out;
}

std::vector<Missing> cppMissing() {
  const std::string apt = std::string("apt-get install clang-") + FN0_CLANG_VERSION + " libc++-" + FN0_CLANG_VERSION +
                          "-dev-wasm32 libc++abi-" + FN0_CLANG_VERSION + "-dev-wasm32";
  auto missing = missingOf({needProgram(clangxx(), apt),
                            needPath(fs::path(kLibcxxInclude) / "expected", "libc++ headers for wasm32-wasi", apt),
                            needPath("/usr/lib/wasm32-wasi/libc++.a", "libc++ for wasm32-wasi", apt),
                            needPath("/usr/lib/wasm32-wasi/libc++abi.a", "libc++abi for wasm32-wasi", apt)});
  for (auto& m : wasmCToolchainMissing()) missing.push_back(std::move(m));
  return missing;
}

}  // namespace

Language cppLanguage() {
  return {"cpp", "C++", "clang++ for wasm32-wasi with libc++, wit-bindgen cpp", cppMissing, buildCpp};
}

}  // namespace fn0::cli
