#include "common/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "common/temp_dir_testing.h"

namespace mr {
namespace {

// This test binary's directory, removed at its exit.
const TempDir& Dir() {
  static TempDir dir;
  return dir;
}

std::string Compressed(const std::string& text) {
  std::string path = Dir() / "compressed.gz";
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return bytes;
}

std::string Write(const std::string& bytes) {
  std::string path = Dir() / "in.log.gz";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(GzipTest, ReadsOneOrManyMembers) {
  std::string big;
  for (int i = 0; i < 100000; i++) big += "line " + std::to_string(i) + "\n";
  auto one = ReadGzipFile(Write(Compressed(big)));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, big);
  auto two = ReadGzipFile(Write(Compressed("a\nb") + Compressed("\nc\n")));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "a\nb\nc\n");
  auto empty = ReadGzipFile(Write(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  EXPECT_TRUE(IsGzipPath("/x/access.log.2.gz"));
  EXPECT_FALSE(IsGzipPath("/x/access.log"));
}

TEST(GzipTest, RefusesCorruptOrTruncatedData) {
  std::string z = Compressed(std::string(5000, 'x'));
  auto truncated = ReadGzipFile(Write(z.substr(0, z.size() / 2)));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("is truncated"), std::string::npos);
  auto plain = ReadGzipFile(Write("not gzip at all\n"));
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("is not valid gzip data"), std::string::npos);
  EXPECT_FALSE(ReadGzipFile("/nonexistent.gz").ok());
}

}  // namespace
}  // namespace mr
