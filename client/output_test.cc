#include "client/output.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/output_layout.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

class OutputTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  std::string dir_ = tmp_.path();
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  // What PrintOutputPreview prints.
  std::string Preview(int lines) {
    FILE* f = std::tmpfile();
    PrintOutputPreview(dir_, lines, f);
    std::rewind(f);
    std::string out;
    for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
    std::fclose(f);
    return out;
  }
};

TEST_F(OutputTest, PartsInPartitionOrderAndNothingElse) {
  Write(PartFileName(10), "k\n");
  Write(PartFileName(2), "b\n");
  Write(PartFileName(0), "a\n");
  Write("part-r-7", "not a part name\n");
  Write("notes.txt", "x\n");
  fs::create_directories(dir_ + "/" + kTemporaryDirName + "/" + PartFileName(3));
  auto missing = ListOutputParts(dir_, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("has no _SUCCESS"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find("--partial"), std::string::npos);

  auto partial = ListOutputParts(dir_, true);
  ASSERT_TRUE(partial.ok());
  Write(kSuccessFileName, "");
  auto parts = ListOutputParts(dir_, false);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  EXPECT_EQ(*parts, (std::vector<std::string>{dir_ + "/" + PartFileName(0), dir_ + "/" + PartFileName(2),
                                               dir_ + "/" + PartFileName(10)}));
  EXPECT_EQ(*partial, *parts);

  auto absent = ListOutputParts(dir_ + "/nope", true);
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), Status::Code::kNotFound);
}

TEST_F(OutputTest, PreviewShowsTheFirstLinesAcrossParts) {
  Write(PartFileName(0), "a\t1\nb\t2\n");
  Write(PartFileName(1), "");
  Write(PartFileName(2), std::string("c\x01\t3\n") + std::string(500, 'z') + "\nlast");
  Write(kSuccessFileName, "");
  std::string three = Preview(3);
  EXPECT_EQ(three.substr(0, three.find('\n')), "first 3 lines (all: mr cat " + dir_ + "):");
  EXPECT_NE(three.find("  a\t1\n  b\t2\n  c.\t3\n"), std::string::npos) << three;  // control byte shown as '.'
  std::string all = Preview(10);
  EXPECT_NE(all.find("all 5 lines of the output:"), std::string::npos) << all;
  EXPECT_NE(all.find(std::string(160, 'z') + "...\n"), std::string::npos) << all;  // a long line is cut
  EXPECT_NE(all.find("  last\n"), std::string::npos) << all;                       // no final newline
  EXPECT_EQ(Preview(0), "");
}

TEST_F(OutputTest, PreviewOfAnEmptyOrUnfinishedOutput) {
  Write(PartFileName(0), "");
  EXPECT_NE(Preview(5).find("has no _SUCCESS"), std::string::npos);
  Write(kSuccessFileName, "");
  EXPECT_EQ(Preview(5), "the output is empty\n");
}

}  // namespace
}  // namespace mr
