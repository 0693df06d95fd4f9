#include "registry/secret_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <random>

namespace fn0::registry {

namespace {

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

int hexDigit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::string errnoText(int e) { return std::strerror(e); }

// Writes all of `text` to `fd`.
bool writeAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<SecretKeyring> SecretKeyring::parse(std::string_view text) {
  SecretKeyring ring;
  size_t lineNo = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    lineNo++;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(lineNo) + ": ";
    const size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) return Error{where + "expected '<id> <key>'"};
    std::string_view id = line.substr(0, space), hex = line.substr(space + 1);
    while (!hex.empty() && (hex.front() == ' ' || hex.front() == '\t')) hex.remove_prefix(1);
    if (id.size() != 16 || !isLowerHex(id)) return Error{where + "the id must be 16 lowercase hex digits"};
    if (hex.size() != 64 || !isLowerHex(hex)) return Error{where + "the key must be 64 lowercase hex digits (32 bytes)"};
    SecretKey k;
    for (size_t i = 0; i < k.bytes.size(); i++)
      k.bytes[i] = static_cast<unsigned char>(hexDigit(hex[2 * i]) << 4 | hexDigit(hex[2 * i + 1]));
    k.id = secretKeyId(k.bytes);
    if (k.id != id) return Error{where + "the id " + std::string(id) + " does not belong to its key (a damaged line?)"};
    if (ring.find(k.id)) return Error{where + "key " + k.id + " appears twice"};
    ring.keys.push_back(std::move(k));
  }
  if (ring.keys.empty()) return Error{"holds no key"};
  return ring;
}

std::string SecretKeyring::text() const {
  std::string out =
      "# fn0 secrets keys (fn0 serve --secrets-key-file): '<id> <key>' per line, newest first.\n"
      "# Whoever reads this file can read every secret in the registry: keep it mode 0600 and apart\n"
      "# from registry backups. Every node sharing a registry needs the same keys (docs/secrets.md).\n";
  static constexpr char kHex[] = "0123456789abcdef";
  for (const auto& k : keys) {
    out += k.id;
    out += ' ';
    for (unsigned char b : k.bytes) {
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    out += '\n';
  }
  return out;
}

const SecretKey* SecretKeyring::find(std::string_view id) const {
  for (const auto& k : keys)
    if (k.id == id) return &k;
  return nullptr;
}

std::vector<std::string> SecretKeyring::ids() const {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.id);
  return out;
}

Result<SecretKeyring> readSecretKeyFile(const std::filesystem::path& file) {
  const std::string name = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);  // through a symlink: its target is what is checked
  if (fd < 0) return Error{"cannot read the secrets key file " + name + ": " + errnoText(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"the secrets key file " + name + " is not a regular file"};
  }
  // Checked on the open file, so what is read is what was checked.
  if (st.st_mode & 077) {
    ::close(fd);
    return Error{fmt::format("the secrets key file {} may be read or written by group or others (mode {:04o}): it "
                             "unlocks every secret, so fn0 uses it only when its owner alone has access (chmod 600 {})",
                             name, st.st_mode & 07777, name)};
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || text.size() > (1 << 20)) {
      ::close(fd);
      return Error{"cannot read the secrets key file " + name};
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto ring = SecretKeyring::parse(text);
  if (!ring) return Error{"the secrets key file " + name + " is malformed: " + ring.error().message};
  return ring;
}

Result<void> writeSecretKeyFile(const std::filesystem::path& file, const SecretKeyring& ring, bool replace) {
  // A temporary file beside it (unique per process and call), complete and
  // synced before it takes the name: rename() to replace, link() to create
  // without ever overwriting.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = file.string() + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(std::random_device{}()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot create " + tmp + ": " + errnoText(errno)};
  const bool written = writeAll(fd, ring.text()) && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return Error{"cannot write " + tmp + ": " + errnoText(err)};
  }
  const int placed = replace ? std::rename(tmp.c_str(), file.c_str()) : ::link(tmp.c_str(), file.c_str());
  const int placeErr = errno;
  ::unlink(tmp.c_str());  // after link(), the file keeps its other name; after rename() there is nothing to remove
  if (placed != 0)
    return Error{(placeErr == EEXIST ? "the secrets key file " + file.string() + " appeared meanwhile"
                                     : "cannot write the secrets key file " + file.string() + ": " + errnoText(placeErr))};
  const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  return {};
}

bool SecretKeys::fileExists() const {
  struct stat st {};
  return ::stat(file_.c_str(), &st) == 0;
}

std::optional<SecretKeys::Stamp> SecretKeys::stampNow() const {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) return std::nullopt;
  return Stamp{st.st_ino, st.st_size, st.st_mtim};
}

Result<void> SecretKeys::load() {
  const auto stamp = stampNow();
  auto ring = readSecretKeyFile(file_);
  if (!ring) return ring.error();
  std::lock_guard lock(mu_);
  ring_ = std::move(*ring);
  readStamp_ = stamp;
  return {};
}

Result<std::string> SecretKeys::generate() {
  SecretKeyring ring;
  ring.keys.push_back(generateSecretKey());
  if (auto w = writeSecretKeyFile(file_, ring, /*replace=*/false); !w) return w.error();
  const auto stamp = stampNow();
  std::lock_guard lock(mu_);
  ring_ = ring;
  readStamp_ = stamp;
  return ring.keys.front().id;
}

std::optional<SecretKey> SecretKeys::find(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    if (const auto* k = ring_.find(id)) return *k;
  }
  // Not held: the file may have gained it since (a rotation). Read it again
  // only if it changed, so a key that is really missing costs a stat() per
  // lookup, not a read and a parse.
  const auto stamp = stampNow();
  {
    std::lock_guard lock(mu_);
    const bool same = stamp && readStamp_ && stamp->inode == readStamp_->inode && stamp->size == readStamp_->size &&
                      stamp->mtime.tv_sec == readStamp_->mtime.tv_sec && stamp->mtime.tv_nsec == readStamp_->mtime.tv_nsec;
    if (!stamp || same) return std::nullopt;
  }
  auto ring = readSecretKeyFile(file_);
  std::lock_guard lock(mu_);
  readStamp_ = stamp;  // a malformed new file is not read again until it changes
  if (!ring) {
    fmt::print(stderr, "fn0: keeping the secrets keys read before: {}\n", ring.error().message);
    return std::nullopt;
  }
  ring_ = std::move(*ring);
  if (const auto* k = ring_.find(id)) return *k;
  return std::nullopt;
}

std::vector<std::string> SecretKeys::ids() const {
  std::lock_guard lock(mu_);
  return ring_.ids();
}

std::optional<SecretKey> SecretKeys::newest() const {
  std::lock_guard lock(mu_);
  if (ring_.keys.empty()) return std::nullopt;
  return ring_.keys.front();
}

}  // namespace fn0::registry
