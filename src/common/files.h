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
// fsync of the directory.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);

Result<std::vector<uint8_t>> readFile(const std::filesystem::path& path);

}  // namespace fn0
