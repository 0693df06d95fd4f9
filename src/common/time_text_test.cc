#include "common/time_text.h"

#include <gtest/gtest.h>

namespace fn0 {
namespace {

constexpr int64_t kNow = 1'765'015'200'000'000;  // 2025-12-06T10:00:00Z

TEST(TimeText, ReadsUnixSecondsRfc3339AndDurationsAgo) {
  EXPECT_EQ(parseTimeMicros("1765015200", kNow), 1'765'015'200'000'000);
  EXPECT_EQ(parseTimeMicros("1765015200.25", kNow), 1'765'015'200'250'000);
  EXPECT_EQ(parseTimeMicros("2025-12-06T10:00:00Z", kNow), kNow);
  EXPECT_EQ(parseTimeMicros("2025-12-06T11:00:00+01:00", kNow), kNow);
  EXPECT_EQ(parseTimeMicros("2025-12-06T09:30:00.5-00:30", kNow), kNow + 500'000);
  EXPECT_EQ(parseTimeMicros("2025-12-06", kNow), kNow - 10 * 3600'000'000LL);
  EXPECT_EQ(parseTimeMicros("1970-01-01T00:00:00Z", kNow), 0);
  EXPECT_EQ(parseTimeMicros("90s", kNow), kNow - 90'000'000);
  EXPECT_EQ(parseTimeMicros("1h30m", kNow), kNow - 5400'000'000LL);
  EXPECT_EQ(parseTimeMicros("2d", kNow), kNow - 2 * 86400'000'000LL);
  EXPECT_EQ(parseTimeMicros("1w", kNow), kNow - 7 * 86400'000'000LL);
  for (const char* bad : {"", "h", "1x", "1h30", "2025-13-01T00:00:00Z", "2025-12-06T10:00:00", "2025-02-30",
                          "2025-12-06T25:00:00Z", "12.", "-5", "yesterday", "2025-12-06T10:00:00Zjunk"})
    EXPECT_FALSE(parseTimeMicros(bad, kNow)) << bad;
}

TEST(TimeText, FormatsWhatItReadsBack) {
  for (int64_t us : {int64_t{0}, int64_t{1'765'015'200'250'001}, kNow})
    EXPECT_EQ(parseTimeMicros(formatUnixMicros(us), kNow), us);
  EXPECT_EQ(formatUnixMicros(1'500'000), "1.500000");
}

}  // namespace
}  // namespace fn0
