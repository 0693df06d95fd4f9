#include "common/units.h"

#include <gtest/gtest.h>

namespace fn0 {

TEST(Units, BytesAreWrittenInTheUnitTheLimitWasSetIn) {
  EXPECT_EQ(formatBytes(128ull << 20), "128 MiB");
  EXPECT_EQ(formatBytes(100'000'000), "100 MB");
  EXPECT_EQ(formatBytes(128 * 1024), "128 KiB");
  EXPECT_EQ(formatBytes(4ull << 30), "4 GiB");
  EXPECT_EQ(formatBytes(2000), "2 kB");
  EXPECT_EQ(formatBytes(65537), "65537 bytes");
  EXPECT_EQ(formatBytes(1), "1 byte");
  EXPECT_EQ(formatBytes(0), "0 bytes");
}

TEST(Units, DurationsToo) {
  using namespace std::chrono;
  EXPECT_EQ(formatDuration(milliseconds(10)), "10 ms");
  EXPECT_EQ(formatDuration(seconds(15)), "15 s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500 ms");
  EXPECT_EQ(formatDuration(microseconds(2500)), "2.5 ms");
  EXPECT_EQ(formatDuration(microseconds(250)), "250 µs");
}

}  // namespace fn0
