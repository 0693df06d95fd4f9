#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

namespace fn0 {

namespace {
std::string errnoText() { return std::strerror(errno); }

// A random part fixed per process: pids repeat across the hosts sharing a
// directory (NFS), and across containers.
const std::string& processTag() {
  static const std::string tag = [] {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return std::string(buf);
  }();
  return tag;
}
}  // namespace

Result<void> writeFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes, int* errnoOut,
                                 Durability durability) {
  const bool sync = durability == Durability::kDurable;
  static std::atomic<uint64_t> counter{0};
  const auto tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + processTag() + "." +
                   std::to_string(counter++);
  auto fail = [&](std::string message, int err) -> Result<void> {
    if (errnoOut) *errnoOut = err;
    return Error{std::move(message)};
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create " + tmp + ": " + errnoText(), errno);
  if (!writeAll(fd, bytes)) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail("cannot write " + tmp + ": " + std::strerror(err), err);
  }
  int synced = !sync || ::fsync(fd) == 0 ? 0 : errno;
  int closed = ::close(fd) == 0 ? 0 : errno;
  if (synced != 0 || closed != 0) {
    int err = synced != 0 ? synced : closed;
    ::unlink(tmp.c_str());
    return fail("cannot flush " + tmp + ": " + std::strerror(err), err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail("cannot rename " + tmp + ": " + std::strerror(err), err);
  }
  if (!sync) return {};
  int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

bool writeAll(int fd, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<std::vector<uint8_t>> readAll(int fd) {
  // read(2) into a buffer sized by fstat: a stream iterator copies a byte
  // at a time (~20 ms of CPU for a 13 MB JavaScript component).
  struct stat st {};
  std::vector<uint8_t> out(::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0);
  size_t done = 0;
  uint8_t more[4096];  // what a file read past its size holds, if it grew
  for (;;) {
    const bool full = done == out.size();
    ssize_t n = full ? ::read(fd, more, sizeof more) : ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errnoText()};
    if (n == 0) break;
    if (full) out.insert(out.end(), more, more + n);
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<std::vector<uint8_t>> readFile(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error{"cannot read " + path.string() + ": " + errnoText()};
  auto bytes = readAll(fd.get());
  if (!bytes) return Error{"cannot read " + path.string() + ": " + bytes.error().message};
  return bytes;
}

}  // namespace fn0
