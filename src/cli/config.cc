#include "cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

namespace fn0::cli {

std::filesystem::path configPath() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::filesystem::path(x) / "fn0" / "config.toml";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".config" / "fn0" / "config.toml";
}

namespace {

// The file holds two `key = "value"` lines; values never contain quotes or
// backslashes (a URL and a token), which saveConfig checks.
std::string unquote(std::string v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

CliConfig loadConfig() {
  CliConfig c;
  std::ifstream in(configPath());
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line[0] == '#') continue;
    std::string key = unquote(line.substr(0, eq));
    std::string value = unquote(line.substr(eq + 1));
    if (key == "server") c.server = value;
    if (key == "token") c.token = value;
  }
  if (const char* s = std::getenv("FN0_SERVER"); s && *s) c.server = s;
  if (const char* t = std::getenv("FN0_TOKEN"); t && *t) c.token = t;
  return c;
}

Result<void> saveConfig(const CliConfig& c) {
  for (const std::string* v : {&c.server, &c.token})
    if (v->find_first_of("\"\\\n") != std::string::npos) return Error{"server and token may not contain quotes"};
  auto path = configPath();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Error{"cannot create " + path.parent_path().string() + ": " + ec.message()};
  const auto tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
  std::string text = "# written by `fn0 login`\nserver = \"" + c.server + "\"\ntoken = \"" + c.token + "\"\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fchmod(fd, 0600) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) return Error{"cannot write " + path.string()};
  return {};
}

}  // namespace fn0::cli
