#include "store/blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string_view>

#include "common/sha256.h"

namespace fn0::store {
namespace {

class Blobs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("fn0-blobs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST_F(Blobs, StoresByContentAndReadsBack) {
  BlobStore b(dir_);
  auto h = b.put(bytes("component bytes"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(*h, sha256Hex(bytes("component bytes")));
  EXPECT_TRUE(b.has(*h));
  auto back = b.get(*h);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->begin(), back->end()), "component bytes");
  auto again = b.put(bytes("component bytes"));  // idempotent
  EXPECT_EQ(*again, *h);
}

TEST_F(Blobs, RejectsNamesThatAreNotHashes) {
  BlobStore b(dir_);
  EXPECT_FALSE(b.get("../../etc/passwd").ok());
  EXPECT_FALSE(b.has("../x"));
  EXPECT_FALSE(b.putWithHash("nothex", bytes("x")).ok());
}

TEST_F(Blobs, LeavesNoTemporaryFilesBehind) {
  BlobStore b(dir_);
  auto h = b.put(bytes("abc"));
  ASSERT_TRUE(h.ok());
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

}  // namespace
}  // namespace fn0::store
