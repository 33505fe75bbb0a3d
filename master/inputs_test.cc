#include "master/inputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mr {
namespace {

namespace fs = std::filesystem;

class InputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mr-inputs-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, size_t size) { std::ofstream(dir_ / name) << std::string(size, 'x'); }
  fs::path dir_;
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

TEST(SplitsTest, CutAtSplitSizeAndSkipEmptyFiles) {
  std::vector<InputFile> files = {{"/a", 10}, {"/empty", 0}, {"/b", 4}};
  auto splits = MakeSplits(files, 4);
  ASSERT_EQ(splits.size(), 4u);
  EXPECT_EQ(splits[2].offset, 8u);
  EXPECT_EQ(splits[2].length, 2u);
  EXPECT_EQ(splits[3].path, "/b");
  EXPECT_EQ(splits[3].length, 4u);
}

}  // namespace
}  // namespace mr
