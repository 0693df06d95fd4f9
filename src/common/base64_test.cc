#include "common/base64.h"

#include <gtest/gtest.h>

namespace fn0 {
namespace {

TEST(Base64, RoundTripsEveryLengthAndByte) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; i++) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) EXPECT_EQ(base64Decode(base64Encode(all.substr(0, n))), all.substr(0, n));
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64Decode("Zg="));
  EXPECT_FALSE(base64Decode("Z!=="));
  EXPECT_FALSE(base64Decode("Zg==Zg=="));
  EXPECT_FALSE(base64Decode("=AAA"));
}

}  // namespace
}  // namespace fn0
