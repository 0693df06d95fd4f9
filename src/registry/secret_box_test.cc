// The crypto of secrets at rest (secret_box.h) and the key file
// (secret_keys.h): what opens, what does not, and what a key file must be.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/base64.h"
#include "registry/secret_box.h"
#include "registry/secret_keys.h"

namespace fn0::registry {
namespace {

TEST(SecretBox, ASealedValueOpensWithItsKeyFunctionAndName) {
  const auto key = generateSecretKey();
  for (const std::string& value : {std::string("s3cret"), std::string(), std::string("caf\xc3\xa9 = 1"),
                                  std::string(32 * 1024, 'v')}) {
    const auto sealed = sealSecret(key, "hello", "API_KEY", value);
    if (!value.empty()) {
      EXPECT_EQ(sealed.find(value), std::string::npos);
    }
    auto opened = openSecret(key, "hello", "API_KEY", sealed);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, value);
  }
}

TEST(SecretBox, EverySealHasItsOwnNonce) {
  const auto key = generateSecretKey();
  std::set<std::string> seen;
  for (int i = 0; i < 100; i++) seen.insert(sealSecret(key, "hello", "K", "same value"));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SecretBox, AnotherKeyDoesNotOpenIt) {
  const auto key = generateSecretKey(), other = generateSecretKey();
  const auto sealed = sealSecret(key, "hello", "K", "value");
  EXPECT_FALSE(openSecret(other, "hello", "K", sealed).has_value());
  auto almost = key;  // one bit off
  almost.bytes[31] ^= 1;
  EXPECT_FALSE(openSecret(almost, "hello", "K", sealed).has_value());
}

TEST(SecretBox, AnAlteredCiphertextDoesNotOpen) {
  const auto key = generateSecretKey();
  const auto sealed = sealSecret(key, "hello", "K", "value");
  const auto raw = *base64Decode(sealed);
  for (size_t i = 0; i < raw.size(); i++) {  // nonce, ciphertext and tag: every byte counts
    auto bad = raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(openSecret(key, "hello", "K", base64Encode(bad)).has_value()) << "byte " << i;
  }
  EXPECT_FALSE(openSecret(key, "hello", "K", base64Encode(raw.substr(0, raw.size() - 1))).has_value());
  EXPECT_FALSE(openSecret(key, "hello", "K", base64Encode(raw + "x")).has_value());
  EXPECT_FALSE(openSecret(key, "hello", "K", "value").has_value());  // stored in clear: not base64 of a sealed value
  EXPECT_FALSE(openSecret(key, "hello", "K", "").has_value());
  EXPECT_FALSE(openSecret(key, "hello", "K", "!!!!").has_value());
}

TEST(SecretBox, AValueMovedToAnotherFunctionOrNameDoesNotOpen) {
  const auto key = generateSecretKey();
  const auto sealed = sealSecret(key, "hello", "API_KEY", "value");
  EXPECT_FALSE(openSecret(key, "other", "API_KEY", sealed).has_value());
  EXPECT_FALSE(openSecret(key, "hello", "DB_PASSWORD", sealed).has_value());
  EXPECT_FALSE(openSecret(key, "API_KEY", "hello", sealed).has_value());
  // The boundary between the two names is part of what is bound.
  const auto ab = sealSecret(key, "ab", "C", "value");
  EXPECT_FALSE(openSecret(key, "a", "bC", ab).has_value());
}

TEST(SecretBox, KeyIdsAreFingerprints) {
  const auto a = generateSecretKey(), b = generateSecretKey();
  EXPECT_EQ(a.id.size(), 16u);
  EXPECT_EQ(a.id, secretKeyId(a.bytes));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecretKeyring, TextRoundTripsAndKeepsTheOrder) {
  SecretKeyring ring;
  ring.keys = {generateSecretKey(), generateSecretKey()};
  auto back = SecretKeyring::parse(ring.text());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->ids(), ring.ids());
  EXPECT_EQ(back->keys[1].bytes, ring.keys[1].bytes);
  EXPECT_NE(ring.text().find("# fn0 secrets keys"), std::string::npos);
  // Comments, blank lines, CRLF and extra spaces are fine.
  const auto line = ring.text().substr(ring.text().rfind(ring.keys[1].id));
  auto loose = SecretKeyring::parse("# mine\n\n  " + line.substr(0, 16) + "   " + line.substr(17, 64) + "\r\n");
  ASSERT_TRUE(loose.ok()) << loose.error().message;
  EXPECT_EQ(loose->ids(), std::vector<std::string>{ring.keys[1].id});
}

TEST(SecretKeyring, MalformedFilesSayWhichLineAndWhy) {
  const auto k = generateSecretKey();
  SecretKeyring one;
  one.keys = {k};
  const std::string good = one.text().substr(one.text().rfind(k.id));  // "<id> <key>\n"
  const std::string hex = good.substr(17, 64);
  struct Case {
    std::string text, says;
  };
  std::string otherId = k.id;
  otherId[0] = otherId[0] == '0' ? '1' : '0';
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  for (const auto& c : std::vector<Case>{
           {"", "holds no key"},
           {"# only a comment\n", "holds no key"},
           {k.id + "\n", "line 1: expected '<id> <key>'"},
           {"# x\n" + otherId + " " + hex + "\n", "line 2: the id " + otherId + " does not belong to its key"},
           {k.id + " " + hex.substr(0, 62) + "\n", "line 1: the key must be 64 lowercase hex digits"},
           {k.id + " " + upper + "\n", "line 1: the key must be 64 lowercase hex digits"},
           {"xyz " + hex + "\n", "line 1: the id must be 16 lowercase hex digits"},
           {good + good, "line 2: key " + k.id + " appears twice"},
       }) {
    auto r = SecretKeyring::parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(hex), std::string::npos) << "a key in an error message";
  }
}

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("fn0-secret-keys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "secrets.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static unsigned mode(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  std::filesystem::path dir_, file_;
};

TEST_F(KeyFile, IsWrittenForItsOwnerOnlyAndReadBack) {
  ::umask(022);
  SecretKeyring ring;
  ring.keys = {generateSecretKey()};
  ASSERT_TRUE(writeSecretKeyFile(file_, ring, false).ok());
  EXPECT_EQ(mode(file_), 0600u);
  auto back = readSecretKeyFile(file_);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->ids(), ring.ids());
  // Never over an existing file unless asked to.
  SecretKeyring other;
  other.keys = {generateSecretKey()};
  auto again = writeSecretKeyFile(file_, other, false);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("appeared meanwhile"), std::string::npos) << again.error().message;
  EXPECT_EQ(readSecretKeyFile(file_)->ids(), ring.ids());
  ASSERT_TRUE(writeSecretKeyFile(file_, other, true).ok());
  EXPECT_EQ(readSecretKeyFile(file_)->ids(), other.ids());
  EXPECT_EQ(mode(file_), 0600u);
  for (const auto& e : std::filesystem::directory_iterator(dir_))  // no temporary file left behind
    EXPECT_EQ(e.path().filename(), "secrets.key");
}

TEST_F(KeyFile, AFileOthersMayReadOrWriteIsRefused) {
  SecretKeyring ring;
  ring.keys = {generateSecretKey()};
  ASSERT_TRUE(writeSecretKeyFile(file_, ring, false).ok());
  for (unsigned m : {0640u, 0604u, 0620u, 0666u}) {
    std::filesystem::permissions(file_, static_cast<std::filesystem::perms>(m));
    auto r = readSecretKeyFile(file_);
    ASSERT_FALSE(r.ok()) << std::oct << m;
    EXPECT_NE(r.error().message.find("chmod 600 " + file_.string()), std::string::npos) << r.error().message;
  }
  std::filesystem::permissions(file_, static_cast<std::filesystem::perms>(0400));
  EXPECT_TRUE(readSecretKeyFile(file_).ok());
}

TEST_F(KeyFile, MissingOrMalformedFilesAreNamed) {
  auto missing = readSecretKeyFile(file_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot read the secrets key file " + file_.string()), std::string::npos);
  {
    std::ofstream(file_) << "not a key\n";
  }
  std::filesystem::permissions(file_, static_cast<std::filesystem::perms>(0600));
  auto bad = readSecretKeyFile(file_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(file_.string() + " is malformed: line 1"), std::string::npos)
      << bad.error().message;
  std::filesystem::remove(file_);
  std::filesystem::create_directory(file_);
  EXPECT_FALSE(readSecretKeyFile(file_).ok());
}

TEST_F(KeyFile, ANodeFindsAKeyAddedToItsFileAfterItStarted) {
  SecretKeys keys(file_);
  EXPECT_FALSE(keys.fileExists());
  auto first = keys.generate();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(mode(file_), 0600u);
  EXPECT_FALSE(keys.generate().ok());  // never over the file it made
  EXPECT_EQ(keys.ids(), std::vector<std::string>{*first});
  // A rotation elsewhere writes the file anew, the new key first.
  auto ring = *readSecretKeyFile(file_);
  const auto added = generateSecretKey();
  ring.keys.insert(ring.keys.begin(), added);
  ASSERT_TRUE(writeSecretKeyFile(file_, ring, true).ok());
  EXPECT_EQ(keys.newest()->id, *first);  // not read again until a key is missing
  auto found = keys.find(added.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->bytes, added.bytes);
  EXPECT_EQ(keys.ids(), (std::vector<std::string>{added.id, *first}));
  EXPECT_FALSE(keys.find("0123456789abcdef").has_value());
  // A file damaged meanwhile: the keys held stay.
  { std::ofstream(file_, std::ios::app) << "garbage\n"; }
  EXPECT_FALSE(keys.find("fedcba9876543210").has_value());
  EXPECT_TRUE(keys.find(added.id).has_value());
}

}  // namespace
}  // namespace fn0::registry
