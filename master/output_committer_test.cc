// The output commit protocol against an in-memory filesystem.
#include "master/output_committer.h"

#include <gtest/gtest.h>

#include "common/output_layout.h"

namespace mr {
namespace {

TEST(OutputCommitterTest, CommitsOneAttemptPerTaskAndLeavesOnlyPartsAndSuccess) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  ASSERT_TRUE(c.CheckNew("/out", false).ok());
  ASSERT_TRUE(c.Setup("/out", false).ok());
  EXPECT_TRUE(fs.Exists("/out/_temporary"));
  for (uint32_t attempt : {1u, 2u}) {
    std::string f = AttemptOutputFile("/out", 7, 0, attempt);
    ASSERT_TRUE(fs.CreateDirs(f.substr(0, f.rfind('/'))).ok());
    ASSERT_TRUE(fs.WriteFile(f, "attempt " + std::to_string(attempt)).ok());
  }
  EXPECT_FALSE(c.IsCommitted("/out", 0));
  ASSERT_TRUE(c.CommitTask("/out", 0, AttemptOutputFile("/out", 7, 0, 2)).ok());
  EXPECT_TRUE(c.IsCommitted("/out", 0));
  ASSERT_TRUE(c.CommitJob("/out").ok());
  ASSERT_TRUE(c.Cleanup("/out").ok());
  EXPECT_EQ(fs.ListUnder("/out"), (std::set<std::string>{"/out/_SUCCESS", "/out/part-r-00000"}));
  EXPECT_EQ(fs.files().at("/out/part-r-00000"), "attempt 2");
}

TEST(OutputCommitterTest, RefusesFilesOutsideTheTemporaryDirectoryOrOfAnotherTask) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  ASSERT_TRUE(c.Setup("/out", false).ok());
  ASSERT_TRUE(fs.CreateDirs("/elsewhere").ok());
  ASSERT_TRUE(fs.WriteFile("/elsewhere/part-r-00000", "x").ok());
  EXPECT_EQ(c.CommitTask("/out", 0, "/elsewhere/part-r-00000").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c.CommitTask("/out", 0, "/out/_temporary/../../elsewhere/part-r-00000").code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(c.CommitTask("/out", 1, AttemptOutputFile("/out", 1, 0, 1)).code(), Status::Code::kInvalidArgument);
  // A missing attempt file is an I/O error, not a commit.
  EXPECT_EQ(c.CommitTask("/out", 0, AttemptOutputFile("/out", 1, 0, 1)).code(), Status::Code::kIoError);
  EXPECT_FALSE(c.IsCommitted("/out", 0));
}

TEST(OutputCommitterTest, AnExistingOutputIsReplacedOnlyWithOverwrite) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  ASSERT_TRUE(fs.CreateDirs("/out").ok());
  ASSERT_TRUE(fs.WriteFile("/out/old", "x").ok());
  EXPECT_EQ(c.CheckNew("/out", false).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(c.Setup("/out", false).code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(fs.Exists("/out/old"));
  ASSERT_TRUE(c.Setup("/out", true).ok());
  EXPECT_FALSE(fs.Exists("/out/old"));
  EXPECT_TRUE(fs.Exists("/out/_temporary"));
}

}  // namespace
}  // namespace mr
