#include "code/seal.h"

#include <gtest/gtest.h>

namespace fn0::code {
namespace {

const std::string kKey = "a-cluster-key-of-32-characters!!", kHash(64, 'a'), kFp = "00112233aabbccdd";

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Seal, RoundTrips) {
  auto sealed = seal(bytes("native code"), kKey, kHash, kFp);
  auto back = unseal(sealed, kKey, kHash, kFp);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bytes("native code"));
}

TEST(Seal, AnyChangeIsRefused) {
  const auto sealed = seal(bytes("native code"), kKey, kHash, kFp);
  for (size_t i = 0; i < sealed.size(); i++) {  // every byte: header, MAC, code
    auto t = sealed;
    t[i] ^= 1;
    EXPECT_FALSE(unseal(t, kKey, kHash, kFp)) << "byte " << i;
  }
  EXPECT_FALSE(unseal(sealed, "another-key-another-key-another!", kHash, kFp));
  EXPECT_FALSE(unseal(sealed, kKey, std::string(64, 'b'), kFp));  // another component's seal
  EXPECT_FALSE(unseal(sealed, kKey, kHash, "ffffffffffffffff"));  // another engine's
  EXPECT_FALSE(unseal(std::span(sealed).first(20), kKey, kHash, kFp));
  EXPECT_FALSE(unseal(bytes("native code"), kKey, kHash, kFp));  // never sealed
  auto appended = sealed;
  appended.push_back(0);
  EXPECT_FALSE(unseal(appended, kKey, kHash, kFp));
}

}  // namespace
}  // namespace fn0::code
