// Points in time as people and scripts write them, for log queries
// (`fn0 logs --since`, `?since=`): unix seconds ("1765015200",
// "1765015200.25"), RFC 3339 ("2026-12-06T10:00:00Z",
// "2026-12-06T10:00:00.5+01:00", "2026-12-06" for its midnight UTC), or a
// time before `now`: a duration such as "90s", "15m", "1h30m", "2d", "1w".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fn0 {

// Unix microseconds, or nullopt for text in none of the forms above.
std::optional<int64_t> parseTimeMicros(std::string_view text, int64_t nowMicros);

// "1765015200.250000": unix seconds to the microsecond, which
// parseTimeMicros reads back exactly.
std::string formatUnixMicros(int64_t micros);

}  // namespace fn0
