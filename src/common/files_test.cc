#include "common/files.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>


namespace fn0 {
namespace {

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fn0-files-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = static_cast<uint8_t>(i * 7 + i / 251);
  return v;
}

TEST_F(Files, WhatIsWrittenIsReadBackWhateverItsSize) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{70000}, size_t{3} << 20}) {
    for (auto d : {Durability::kDurable, Durability::kRebuildable}) {
      const auto path = dir_ / ("f" + std::to_string(n));
      const auto bytes = pattern(n);
      ASSERT_TRUE(writeFileAtomically(path, bytes, nullptr, d).ok());
      auto back = readFile(path);
      ASSERT_TRUE(back.ok()) << back.error().message;
      EXPECT_EQ(*back, bytes) << n << " bytes";
    }
  }
  // Only the files themselves: no temporary file left behind.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 6u);
}

// A file that is not what fstat said (a /proc file says 0) is read whole.
TEST_F(Files, AFileLongerThanItsStatSizeIsReadWhole) {
  auto self = readFile("/proc/self/status");
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_NE(std::string(self->begin(), self->end()).find("Pid:"), std::string::npos);
  EXPECT_GT(self->size(), 100u);
}

// What the compile worker does with the component the node hands over
// (fd 3): reads it from the descriptor's offset, without a path.
TEST_F(Files, ReadAllReadsWhatIsLeftOfADescriptor) {
  const auto bytes = pattern(100000);
  ASSERT_TRUE(writeFileAtomically(dir_ / "f", bytes).ok());
  UniqueFd fd(::open((dir_ / "f").c_str(), O_RDONLY));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::lseek(fd.get(), 1000, SEEK_SET), 1000);
  auto rest = readAll(fd.get());
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(*rest, std::vector<uint8_t>(bytes.begin() + 1000, bytes.end()));
  // A pipe has no size to go by.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd in(p[0]), out(p[1]);
  ASSERT_TRUE(writeAll(out.get(), std::span(bytes).first(50000)));
  out.reset();
  auto piped = readAll(in.get());
  ASSERT_TRUE(piped.ok());
  EXPECT_EQ(*piped, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 50000));
}

TEST_F(Files, AMissingFileIsAnErrorNamingIt) {
  auto r = readFile(dir_ / "nothing-here");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nothing-here"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fn0
