#include "common/block.h"

#include <gtest/gtest.h>

#include <random>

#include "common/record.h"

namespace mr {
namespace {

std::string SomeRecords(int n) {
  std::string run;
  for (int i = 0; i < n; i++) AppendRecord(&run, "/data/access.log:" + std::to_string(i * 97), "GET /index.html HTTP/1.1 200");
  return run;
}

std::string Random(size_t n) {
  std::mt19937 gen(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

TEST(BlockTest, EachCodecRoundTripsAndShrinksText) {
  const std::string records = SomeRecords(5000);
  for (Codec codec : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    std::string blocks;
    AppendBlock(codec, records, &blocks);
    AppendBlock(codec, "", &blocks);
    AppendBlock(codec, records.substr(0, 100), &blocks);
    if (codec == Codec::kNone) EXPECT_EQ(blocks.size(), records.size() + 100 + 3 * kBlockHeaderBytes);
    else EXPECT_LT(blocks.size(), records.size() / 3) << CodecName(codec);
    auto raw = CheckBlocks(blocks);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    EXPECT_EQ(*raw, records.size() + 100);
    std::string_view in = blocks;
    std::string out;
    for (int i = 0; i < 3; i++) ASSERT_TRUE(DecodeBlock(&in, &out).ok());
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(out, records + records.substr(0, 100));
  }
}

TEST(BlockTest, DataThatDoesNotShrinkIsStoredAsItIs) {
  const std::string noise = Random(100000);
  std::string blocks;
  AppendBlock(Codec::kLz4, noise, &blocks);
  EXPECT_EQ(blocks.size(), noise.size() + kBlockHeaderBytes);
  EXPECT_EQ(blocks[0], static_cast<char>(Codec::kNone));
  std::string_view in = blocks;
  std::string out;
  ASSERT_TRUE(DecodeBlock(&in, &out).ok());
  EXPECT_EQ(out, noise);
}

// Every single flipped bit of a block, header or payload, is caught before a record is read.
TEST(BlockTest, AnyFlippedBitFailsTheBlock) {
  for (Codec codec : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    std::string block;
    AppendBlock(codec, SomeRecords(20), &block);
    for (size_t bit = 0; bit < block.size() * 8; bit++) {
      std::string bad = block;
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      std::string_view in = bad;
      std::string out = "kept";
      Status s = DecodeBlock(&in, &out);
      ASSERT_FALSE(s.ok()) << CodecName(codec) << " bit " << bit;
      EXPECT_EQ(s.code(), Status::Code::kCorruption);
      EXPECT_EQ(out, "kept");
      EXPECT_FALSE(CheckBlocks(bad).ok());
    }
  }
}

TEST(BlockTest, ACutBlockIsCorruptNotAShorterOne) {
  std::string block;
  AppendBlock(Codec::kLz4, SomeRecords(50), &block);
  for (size_t n : {size_t{1}, kBlockHeaderBytes - 1, kBlockHeaderBytes, block.size() - 1}) {
    auto r = CheckBlocks(std::string_view(block).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_NE(r.status().message().find("cut short"), std::string::npos) << r.status().message();
  }
  auto size = BlockSizeAt(std::string_view(block).substr(0, 5));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 0u);
  size = BlockSizeAt(block);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, block.size());
}

TEST(BlockTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(BlockTest, CodecNames) {
  for (Codec c : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    auto parsed = ParseCodec(CodecName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
    EXPECT_EQ(CodecOf(ToProto(c)), c);
  }
  auto bad = ParseCodec("snappy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lz4, zstd or none"), std::string::npos);
  EXPECT_EQ(CodecOf(proto::IntermediateCodec{}), Codec::kLz4);
}

}  // namespace
}  // namespace mr
