// Small file helpers the builds share: a whole file as a string, and the
// inputs stamp that lets a build reuse its last output.
#pragma once

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fn0::cli {

// The file's bytes; empty when it cannot be read.
inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// True (and says so on stderr) when `out` exists and `stamp` holds `key`:
// the last build had these inputs. Otherwise removes a stale stamp, so a
// build that fails half-way is never taken for a finished one.
inline bool unchangedSinceLastBuild(const std::filesystem::path& out, const std::filesystem::path& stamp,
                                    const std::string& key) {
  if (std::filesystem::exists(out) && readFile(stamp) == key) {
    fmt::print(stderr, "fn0 build: nothing changed since the last build: {}\n", out.string());
    return true;
  }
  std::error_code ec;
  std::filesystem::remove(stamp, ec);
  return false;
}

// After a successful build: its inputs, for the next one.
inline void writeStamp(const std::filesystem::path& stamp, const std::string& key) {
  std::ofstream(stamp, std::ios::binary) << key;
}

}  // namespace fn0::cli
