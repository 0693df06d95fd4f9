// The directory code store: each key is a file under the store's directory
// (a local disk, or a mount such as NFS that several nodes share). Writes go
// to a uniquely named temporary file in the same directory, are fsynced and
// renamed into place, so several processes writing one key at once never
// leave a partial object: the last rename wins, and every writer wrote the
// same bytes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"
#include "store/code_store.h"
#include "store/key.h"

namespace fn0::store {
namespace {

namespace fs = std::filesystem;

// The error code for a failed file operation.
std::string codeFor(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return kStoreDenied;
    case ENOENT:
    case ENOTDIR:
      return kStoreNoBucket;
    case EIO:
    case ESTALE:
    case ETIMEDOUT:
    case ENOTCONN:
    case EHOSTDOWN:
    case EHOSTUNREACH:
      return kStoreUnavailable;
    default:
      return "";
  }
}

class DirectoryStore final : public CodeStore {
 public:
  explicit DirectoryStore(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);  // a failure shows in check() and put()
  }

  std::string describe() const override { return "file://" + dir_.string(); }

  Result<void> check() override {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) return fail("cannot use", dir_, errno);
    if (!S_ISDIR(st.st_mode)) return Error{"the code store " + describe() + " is not a directory", kStoreNoBucket};
    return probeRoundTrip(*this);
  }

  Result<void> put(const std::string& key, std::span<const uint8_t> bytes) override {
    if (auto k = checkKey(key); !k) return k;
    const fs::path path = dir_ / key;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return {};  // written once
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return fail("cannot create a directory in", path.parent_path(), ec.value());
    int err = 0;
    if (auto w = writeFileAtomically(path, bytes, &err); !w) {
      return Error{"cannot write to the code store " + describe() + ": " + w.error().message, codeFor(err)};
    }
    return {};
  }

  Result<std::optional<std::vector<uint8_t>>> get(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k.error();
    const fs::path path = dir_ / key;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::optional<std::vector<uint8_t>>{};
      return fail("cannot read", path, errno).error();
    }
    std::vector<uint8_t> bytes;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size));
    uint8_t buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return fail("cannot read", path, err).error();
      }
      if (n == 0) break;
      bytes.insert(bytes.end(), buf, buf + n);
    }
    ::close(fd);
    return std::optional<std::vector<uint8_t>>{std::move(bytes)};
  }

  Result<bool> exists(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k.error();
    const fs::path path = dir_ / key;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return S_ISREG(st.st_mode);
    if (errno == ENOENT) return false;
    return fail("cannot look up", path, errno).error();
  }

  Result<void> remove(const std::string& key) override {
    if (auto k = checkKey(key); !k) return k;
    const fs::path path = dir_ / key;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail("cannot remove", path, errno);
    return {};
  }

  // A walk of the folder; a file that goes while it runs (another node's
  // collector, a rename) is skipped, not an error.
  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    if (auto k = checkKey(prefix); !k) return k.error();
    std::vector<ObjectInfo> out;
    const fs::path root = dir_ / prefix;
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      if (errno == ENOENT) return out;
      return fail("cannot list", root, errno).error();
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back(ObjectInfo{it->path().lexically_relative(dir_).generic_string(), static_cast<uint64_t>(st.st_size),
                               int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000});
    }
    if (ec) return fail("cannot list", root, ec.value()).error();
    return out;
  }

 private:
  Result<void> fail(const std::string& what, const fs::path& path, int err) const {
    return Error{what + " " + path.string() + " (code store " + describe() + "): " + std::strerror(err), codeFor(err)};
  }

  fs::path dir_;
};

}  // namespace

std::unique_ptr<CodeStore> openDirectoryStore(const std::filesystem::path& dir) {
  return std::make_unique<DirectoryStore>(dir);
}

}  // namespace fn0::store
