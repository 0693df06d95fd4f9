// File helpers with the durability the registry and caches rely on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "common/result.h"

namespace fn0 {

// What a power loss may do to a file once written. kDurable: nothing (it
// is fsync'd, then its directory). kRebuildable: a file fn0 can make again
// and checks before use (a baseline artifact, deleted seconds later): it
// may come back empty, but writing it is a page-cache copy, not a wait for
// the disk (55 MB: ~12 ms, against ~130 ms plus the fsync on this machine).
enum class Durability { kDurable, kRebuildable };

// Writes `bytes` to `path` so that a crash of the process leaves either the
// old state or the whole new file (and, kDurable, so does a power loss): a
// temporary file in the same directory, fsync, rename, fsync of the
// directory. The temporary name is unique across processes and hosts (pid,
// a per-process random part, a counter), so several writers of one path on
// a shared directory never write into each other's file: the last rename
// wins. On failure `*errnoOut` (if given) is the failing call's errno.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                                 int* errnoOut = nullptr, Durability durability = Durability::kDurable);

Result<std::vector<uint8_t>> readFile(const std::filesystem::path& path);
// Everything left to read from `fd`, whose offset it moves.
Result<std::vector<uint8_t>> readAll(int fd);

// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false
// with errno set on failure.
bool writeAll(int fd, std::span<const uint8_t> bytes);

// A file descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace fn0
