#include "runtime/compile_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"
#include "runtime/component.h"

extern char** environ;

namespace fn0::runtime {

namespace {

constexpr size_t kMaxMessage = 16 * 1024;
// The IN argument that means "the file open as fd 3" (the node's memfd),
// and the OUT one for "the file open as fd 4" (compileInChildToFile).
constexpr std::string_view kWorkerInputFd = "/dev/fd/3";
constexpr std::string_view kWorkerOutputFd = "/dev/fd/4";

// The component for the worker: an in-memory file (nothing to fsync, and
// nothing left on disk if the node dies mid-compile), handed over as fd 3.
Result<UniqueFd> inputFile(std::span<const uint8_t> wasm) {
  UniqueFd fd(::memfd_create("fn0-compile-input", MFD_CLOEXEC));
  if (!fd) return Error{std::string("cannot create the compile input: ") + std::strerror(errno)};
  if (!writeAll(fd.get(), wasm) || ::lseek(fd.get(), 0, SEEK_SET) != 0)  // the child reads it from the start
    return Error{std::string("cannot write the compile input: ") + std::strerror(errno)};
  return fd;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Reads what is there without blocking; false once the pipe is closed.
bool drain(int fd, std::string& into) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, std::min<size_t>(static_cast<size_t>(n), kMaxMessage - std::min(kMaxMessage, into.size())));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// Why the child ended the way it did, for the deployer.
Result<void> verdict(int status, bool timedOut, const std::string& stderrText, const CompileBudget& budget) {
  if (timedOut)
    return Error{"compiling the component took longer than fn0's compile time budget of " +
                 std::to_string(budget.time.count()) + " ms; it was stopped"};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string msg = trimmed(stderrText);
  // The allocator's failure message (Rust's "memory allocation of N bytes
  // failed") or an abort while memory is exhausted: the data budget.
  const bool outOfMemory = msg.find("memory allocation of") != std::string::npos ||
                           msg.find("out of memory") != std::string::npos ||
                           msg.find("Cannot allocate memory") != std::string::npos;
  if (outOfMemory || WIFSIGNALED(status))
    return Error{"compiling the component needed more than fn0's compile memory budget of " +
                 std::to_string(budget.memoryBytes >> 20) + " MiB; it was stopped" +
                 (WIFSIGNALED(status) ? " (signal " + std::to_string(WTERMSIG(status)) + ")" : std::string())};
  if (msg.empty()) return Error{"the compile worker failed with exit code " + std::to_string(WEXITSTATUS(status))};
  return Error{msg};
}

// `outFd` >= 0: the artifact goes to that file (as fd 4), not to `out`.
Result<void> runWorker(const CompileIsolation& how, std::span<const uint8_t> wasm, const std::string& out, int outFd,
                       Tier tier, const Background* background) {
  auto input = inputFile(wasm);
  if (!input) return input.error();

  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
  // Only the parent's end is non-blocking (the flag is shared by dup2'd fds).
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawn_file_actions_adddup2(&fa, input->get(), 3);
  if (outFd >= 0) posix_spawn_file_actions_adddup2(&fa, outFd, 4);
  posix_spawn_file_actions_addclosefrom_np(&fa, outFd >= 0 ? 5 : 4);  // no sockets of the node in the child

  std::vector<std::string> args = {how.exe.string(),
                                   kCompileWorkerCommand,
                                   std::string(kWorkerInputFd),
                                   outFd >= 0 ? std::string(kWorkerOutputFd) : out,
                                   std::to_string(how.engine.maxMemoryBytes),
                                   how.engine.pooling ? "0" : "1",
                                   std::to_string(how.budget.memoryBytes),
                                   how.engine.compileCacheDir.string(),
                                   std::to_string(how.engine.compileCacheBytes),
                                   tier == Tier::Baseline ? "baseline"
                                   : background          ? "background"
                                                         : "optimized"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, how.exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(err[1]);
  if (rc != 0) {
    ::close(err[0]);
    return Error{"cannot start the compile worker " + how.exe.string() + ": " + std::strerror(rc)};
  }
  // Readable once the child has exited: the wait below wakes at once
  // rather than at its next 20 ms tick. (-1 on kernels before 5.3: ticks.)
  UniqueFd exited(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  auto deadline = std::chrono::steady_clock::now() + how.budget.time;
  std::string stderrText;
  bool open = true, timedOut = false, cancelled = false, paused = false;
  int status = 0;
  const auto killChild = [&] {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  };
  for (;;) {
    pollfd p[2] = {{open ? err[0] : -1, POLLIN, 0}, {exited.get(), POLLIN, 0}};
    ::poll(p, 2, 20);
    if (open) open = drain(err[0], stderrText);
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (background && background->cancel && background->cancel->load()) {
      killChild();
      cancelled = true;
      break;
    }
    if (background && background->pauseWhile) {
      const bool busy = background->pauseWhile->load() > 0;
      if (busy != paused) ::kill(pid, busy ? SIGSTOP : SIGCONT);
      paused = busy;
      if (paused) deadline += std::chrono::milliseconds(20);  // about the poll above
    }
    if (std::chrono::steady_clock::now() > deadline) {
      killChild();
      timedOut = true;
      break;
    }
  }
  if (open) drain(err[0], stderrText);
  ::close(err[0]);
  if (cancelled) return Error{"the compile was cancelled"};
  return verdict(status, timedOut, stderrText, how.budget);
}

}  // namespace

Result<void> compileInChild(const CompileIsolation& how, std::span<const uint8_t> wasm,
                            const std::filesystem::path& out, Tier tier, const Background* background) {
  return runWorker(how, wasm, out.string(), -1, tier, background);
}

Result<void> compileInChildToFile(const CompileIsolation& how, std::span<const uint8_t> wasm, int outFd, Tier tier) {
  return runWorker(how, wasm, "", outFd, tier, nullptr);
}

int compileWorkerMain(int argc, char** argv) {
  if (argc != 10) {
    std::fputs(
        "usage: fn0 __compile-worker IN OUT MAX_MEMORY_BYTES ON_DEMAND DATA_LIMIT_BYTES CACHE_DIR CACHE_BYTES "
        "optimized|baseline\n",
        stderr);
    return 2;
  }
  // Dies with the node; no core file of a compiler that hit its budget.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 2;
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  const uint64_t dataLimit = std::strtoull(argv[6], nullptr, 10);
  rlimit data{dataLimit, dataLimit};
  if (::setrlimit(RLIMIT_DATA, &data) != 0) {
    std::fprintf(stderr, "cannot set the compile memory budget: %s\n", std::strerror(errno));
    return 2;
  }
  // The node hands the component over as fd 3 (read directly: no /proc
  // needed); a path is for running the worker by hand.
  auto bytes = std::string_view(argv[2]) == kWorkerInputFd ? readAll(3) : readFile(argv[2]);
  if (!bytes) {
    std::fprintf(stderr, "%s\n", bytes.error().message.c_str());
    return 1;
  }
  EngineConfig config;
  config.maxMemoryBytes = std::strtoull(argv[4], nullptr, 10);
  config.pooling = argv[5][0] != '1';
  config.compileOnly = true;
  config.compileCacheDir = argv[7];  // empty: no cache
  config.compileCacheBytes = std::strtoull(argv[8], nullptr, 10);
  auto engine = Engine::create(config);
  if (!engine) {
    std::fprintf(stderr, "cannot create the compile engine: %s\n", engine.error().message.c_str());
    return 1;
  }
  const std::string_view mode = argv[9];
  const Tier tier = mode == "baseline" ? Tier::Baseline : Tier::Optimized;
  // A background compile (tiered compilation) leaves the CPU to requests.
  if (mode == "background") (void)::setpriority(PRIO_PROCESS, 0, 10);
  auto artifact = compile(*engine, *bytes, tier);
  if (!artifact) {
    std::fprintf(stderr, "%s\n", artifact.error().message.c_str());
    return 1;
  }
  if (std::string_view(argv[3]) == kWorkerOutputFd) {
    if (!writeAll(4, artifact->bytes())) {
      std::fprintf(stderr, "cannot write the artifact: %s\n", std::strerror(errno));
      return 1;
    }
  } else if (auto w = writeFileAtomically(argv[3], artifact->bytes()); !w) {
    std::fprintf(stderr, "%s\n", w.error().message.c_str());
    return 1;
  }
  if (std::getenv("FN0_COMPILE_STATS")) {
    const auto c = engine->compileCacheCounts();
    std::fprintf(stderr, "compile cache: %llu hits, %llu misses\n", static_cast<unsigned long long>(c.hits),
                 static_cast<unsigned long long>(c.misses));
  }
  return 0;
}

}  // namespace fn0::runtime
