#include "cli/tool.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cli/lang/layout.h"

extern char** environ;

namespace fn0::cli {

namespace fs = std::filesystem;

namespace {

Result<void> spawnTool(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                       const fs::path& cwd, std::string* output) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; e++) {
    std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> a, en;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : envs) en.push_back(const_cast<char*>(s.c_str()));
  en.push_back(nullptr);
  int pipeFds[2] = {-1, -1};
  if (output && ::pipe2(pipeFds, O_CLOEXEC) != 0) return Error{std::string("cannot run ") + argv[0] + ": no pipe"};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (output) {
    posix_spawn_file_actions_adddup2(&fa, pipeFds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipeFds[1], 2);
  } else {
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
  }
  const std::string dir = cwd.string();
  if (!dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  pid_t pid;
  const int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), en.data());
  posix_spawn_file_actions_destroy(&fa);
  if (output) ::close(pipeFds[1]);
  if (rc != 0) {
    if (output) ::close(pipeFds[0]);
    return Error{"cannot run " + fs::path(argv[0]).filename().string() + ": " + std::strerror(rc) + " (" +
                 setupFix() + "; `fn0 doctor` checks every language)"};
  }
  if (output) {
    char buf[4096];
    for (ssize_t n; (n = ::read(pipeFds[0], buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      output->append(buf, static_cast<size_t>(n));
    }
    ::close(pipeFds[0]);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string tool = fs::path(argv[0]).filename().string();
  if (WIFSIGNALED(status)) return Error{tool + " was killed by signal " + std::to_string(WTERMSIG(status))};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error{tool + " failed" + (output ? "" : " (its output is above)")};
  return {};
}

}  // namespace

Result<void> runTool(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                     const fs::path& cwd) {
  return spawnTool(argv, env, cwd, nullptr);
}

Result<void> runToolQuiet(const std::vector<std::string>& argv, std::string& output,
                          const std::map<std::string, std::string>& env, const fs::path& cwd) {
  return spawnTool(argv, env, cwd, &output);
}

}  // namespace fn0::cli
