// Compiling an upload in a child process with a memory and time budget.
// Compilation cost is not bounded by the upload's size (a few MB can take
// seconds and gigabytes), and an out-of-memory abort inside the compiler
// would take the node with it; a child process can be limited (RLIMIT_DATA)
// and killed (wall clock) without touching the node. The child is the fn0
// binary itself, re-executed with a hidden first argument.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>

#include "common/result.h"
#include "runtime/component.h"
#include "runtime/engine.h"

namespace fn0::runtime {

// argv[1] of the child process; main() hands such a process to compileWorkerMain.
inline constexpr const char* kCompileWorkerCommand = "__compile-worker";

struct CompileBudget {
  std::chrono::milliseconds time{300'000};
  uint64_t memoryBytes = 2048ull << 20;  // the child's RLIMIT_DATA
};

struct CompileIsolation {
  std::filesystem::path exe;  // a binary whose main() dispatches kCompileWorkerCommand
  EngineConfig engine;        // the node's: artifacts must load in its engine
  CompileBudget budget;
};

// How a background compile (tiered compilation's optimizing one) yields.
struct Background {
  // Turned true: the child is killed and the compile fails.
  const std::atomic<bool>* cancel = nullptr;
  // Above 0 (deploys compiling): the child is stopped (SIGSTOP) until it
  // drops to 0 again; time stopped does not count against the budget.
  const std::atomic<int>* pauseWhile = nullptr;
};

// Compiles `wasm` in a child process into the file `out` (not atomically:
// the caller renames it into place), with the compiler `tier` names.
// Temporary files go next to `out`. The error says what went wrong: the
// component's own error, or which budget it exceeded. With `background`,
// the child runs at a lower priority (nice 10) and yields as it says.
Result<void> compileInChild(const CompileIsolation& how, std::span<const uint8_t> wasm,
                            const std::filesystem::path& out, Tier tier = Tier::Optimized,
                            const Background* background = nullptr);

// The same, writing the artifact into the open file `outFd` (a memfd: a
// baseline artifact the node maps from memory, ComponentCache::prepare).
Result<void> compileInChildToFile(const CompileIsolation& how, std::span<const uint8_t> wasm, int outFd, Tier tier);

// The child: `<exe> __compile-worker <in.wasm> <out.cwasm> <max-memory-bytes>
// <on-demand 0|1> <data-limit-bytes> <compile-cache-dir or ""> <cache-bytes> <optimized|baseline|background>` (background: optimized, at nice 10). Exit 0: compiled; 1: the component
// was refused (message on stderr); 2: usage.
int compileWorkerMain(int argc, char** argv);

}  // namespace fn0::runtime
