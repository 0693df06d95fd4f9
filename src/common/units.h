// Sizes and durations as people read them, for messages that name a limit:
// "128 MiB", "100 MB", "128 KiB", "10 ms", "15 s". A value is written in the
// unit it is a whole number of (limits are set in MiB, MB, KiB, ms or s), so
// the message repeats what the owner configured.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fn0 {

std::string formatBytes(uint64_t bytes);
std::string formatDuration(std::chrono::nanoseconds d);

}  // namespace fn0
