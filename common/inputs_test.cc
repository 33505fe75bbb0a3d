#include "common/inputs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/temp_dir_testing.h"


namespace mr {
namespace {

namespace fs = std::filesystem;

class InputsTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "sub"); }
  void Write(const std::string& name, size_t size) { std::ofstream(dir_ / name) << std::string(size, 'x'); }
  TempDir tmp_;
  fs::path dir_{tmp_.path()};
};

TEST_F(InputsTest, DirectoriesSkipUnderscoreAndDotFiles) {
  Write("a.txt", 10);
  Write("sub/b.txt", 20);
  Write("_SUCCESS", 0);
  Write(".hidden", 5);
  auto files = ExpandInputs({dir_.string()});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, (dir_ / "a.txt").string());
  EXPECT_EQ((*files)[1].size, 20u);
}

TEST_F(InputsTest, GlobsAndDuplicates) {
  Write("a.txt", 1);
  Write("b.log", 1);
  auto files = ExpandInputs({(dir_ / "*.txt").string(), (dir_ / "a.txt").string()});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);  // named twice, read once
  auto none = ExpandInputs({(dir_ / "*.csv").string()});
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
}

TEST_F(InputsTest, MissingInputIsNotFound) {
  auto r = ExpandInputs({(dir_ / "nope").string()});
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
}

TEST_F(InputsTest, FifosDevicesAndSymlinkLoopsAreRefusedByName) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0600), 0);
  auto fifo = ExpandInputs({(dir_ / "pipe").string()});
  EXPECT_EQ(fifo.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(fifo.status().message().find("pipe is a FIFO"), std::string::npos) << fifo.status().message();
  // Inside a directory too: the job would otherwise read nothing from it and "succeed".
  auto in_dir = ExpandInputs({dir_.string()});
  EXPECT_EQ(in_dir.status().code(), Status::Code::kInvalidArgument);
  auto zero = ExpandInputs({"/dev/zero"});
  EXPECT_NE(zero.status().message().find("/dev/zero is a character device"), std::string::npos)
      << zero.status().message();
  fs::remove(dir_ / "pipe");
  fs::create_symlink(dir_ / "loop-b", dir_ / "loop-a");
  fs::create_symlink(dir_ / "loop-a", dir_ / "loop-b");
  auto loop = ExpandInputs({(dir_ / "loop-a").string()});
  EXPECT_EQ(loop.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(loop.status().message().find("symbolic link loop"), std::string::npos) << loop.status().message();
}

TEST(SplitsTest, CutAtSplitSizeAndSkipEmptyFiles) {
  std::vector<InputFile> files = {{"/a", 10}, {"/empty", 0}, {"/b", 4}};
  auto splits = MakeSplits(files, 4);
  ASSERT_EQ(splits.size(), 4u);
  EXPECT_EQ(splits[2].offset, 8u);
  EXPECT_EQ(splits[2].length, 2u);
  EXPECT_EQ(splits[3].path, "/b");
  EXPECT_EQ(splits[3].length, 4u);
}

// Small ranges are packed in order into combined splits of at most the split size and
// kMaxSplitParts ranges; a full-size range stays alone; every range lands in exactly one split.
TEST(CombineSplitsTest, PacksSmallRangesAndKeepsFullOnesAlone) {
  std::vector<InputFile> files = {{"/big", 25}, {"/s1", 3}, {"/s2", 4}, {"/s3", 2}, {"/s4", 10}};
  auto groups = CombineSplits(MakeSplits(files, 10), 10);
  // /big: 10, 10, then its tail of 5 packs with /s1 (3) and /s3 does not fit after /s2.
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].size(), 1u);
  EXPECT_EQ(groups[1].size(), 1u);
  ASSERT_EQ(groups[2].size(), 2u);
  EXPECT_EQ(groups[2][0].path, "/big");
  EXPECT_EQ(groups[2][0].offset, 20u);
  EXPECT_EQ(groups[2][0].file_size, 25u);
  EXPECT_EQ(groups[2][1].path, "/s1");
  ASSERT_EQ(groups[3].size(), 2u);  // /s2 + /s3 = 6
  EXPECT_EQ(groups[3][1].path, "/s3");
  EXPECT_EQ(groups[4].size(), 1u);  // /s4 is a full split
  EXPECT_EQ(groups[4][0].path, "/s4");

  std::vector<InputFile> many;
  for (int i = 0; i < 3000; i++) many.push_back({"/m" + std::to_string(i), 20});
  auto packed = CombineSplits(MakeSplits(many, 64 << 20), 64 << 20);
  ASSERT_EQ(packed.size(), 3u);
  EXPECT_EQ(packed[0].size(), kMaxSplitParts);
  size_t total = 0;
  for (auto& g : packed) total += g.size();
  EXPECT_EQ(total, many.size());
  EXPECT_EQ(packed[2].back().path, "/m2999");
}

// Record splits tile each file exactly, on record boundaries, whatever the split size.
TEST(RecordSplitsTest, WholeRecordsForRandomSplitSizes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; round++) {
    uint32_t record = 1 + rng() % 300;
    std::vector<InputFile> files;
    for (int f = 0; f < 3; f++) files.push_back({"/f" + std::to_string(f), record * (rng() % 2000)});
    uint64_t split_size = 1 + rng() % 100000;
    auto splits = MakeSplits(files, split_size, record);
    std::map<std::string, uint64_t> next;  // the next byte each file's splits must start at
    for (const Split& s : splits) {
      ASSERT_EQ(s.offset % record, 0u) << "record " << record << " split size " << split_size;
      ASSERT_EQ(s.length % record, 0u);
      ASSERT_GT(s.length, 0u);
      ASSERT_EQ(s.offset, next[s.path]);
      next[s.path] = s.offset + s.length;
    }
    for (const InputFile& f : files) EXPECT_EQ(next[f.path], f.size);
  }
}

TEST(RecordSplitsTest, SplitSmallerThanARecordHoldsOneRecord) {
  auto splits = MakeSplits({{"/f", 1000}}, 30, 100);
  ASSERT_EQ(splits.size(), 10u);
  EXPECT_EQ(splits[3].offset, 300u);
  EXPECT_EQ(splits[3].length, 100u);
}

TEST(RecordSplitsTest, TrailingPartialRecordIsAnErrorNamingTheFile) {
  Status s = CheckWholeRecords({{"/data/good", 300}, {"/data/bad", 1050}}, 100);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("/data/bad"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("50 bytes"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckWholeRecords({{"/data/good", 300}}, 100).ok());
  EXPECT_TRUE(CheckWholeRecords({{"/data/bad", 1050}}, 0).ok());  // lines
}

}  // namespace
}  // namespace mr
