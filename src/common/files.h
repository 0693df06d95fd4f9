// File helpers with the durability the registry and caches rely on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "common/result.h"

namespace fn0 {

// Writes `bytes` to `path` so that a crash leaves either the old state or the
// whole new file: a temporary file in the same directory, fsync, rename,
// fsync of the directory. The temporary name is unique across processes and
// hosts (pid, a per-process random part, a counter), so several writers of
// one path on a shared directory never write into each other's file: the
// last rename wins. On failure `*errnoOut` (if given) is the failing call's
// errno.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                                 int* errnoOut = nullptr);

Result<std::vector<uint8_t>> readFile(const std::filesystem::path& path);

}  // namespace fn0
