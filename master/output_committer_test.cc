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

// A job that did not succeed leaves the path as it found it: what it committed goes too. A file
// that is not a job's (someone wrote it there meanwhile) keeps the directory in place.
TEST(OutputCommitterTest, DiscardRemovesTheOutputOfAJobThatDidNotSucceed) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  for (bool foreign : {false, true}) {
    ASSERT_TRUE(c.Setup("/out", /*overwrite=*/true).ok());
    std::string f = AttemptOutputFile("/out", 7, 0, 1);
    ASSERT_TRUE(fs.CreateDirs(f.substr(0, f.rfind('/'))).ok());
    ASSERT_TRUE(fs.WriteFile(f, "attempt 1").ok());
    ASSERT_TRUE(c.CommitTask("/out", 0, f).ok());
    if (foreign) {
      ASSERT_TRUE(fs.WriteFile("/out/notes.txt", "mine").ok());
    }
    ASSERT_TRUE(c.Clean({"/out", /*discard=*/true}).ok());
    if (foreign) {
      EXPECT_EQ(fs.ListUnder("/out"), (std::set<std::string>{"/out/notes.txt", "/out/part-r-00000"}));
      ASSERT_TRUE(fs.RemoveAll("/out").ok());
    } else {
      EXPECT_FALSE(fs.Exists("/out"));
    }
  }
  EXPECT_TRUE(c.Discard("/never-made").ok());
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
  ASSERT_TRUE(fs.CreateDirs("/out/_temporary/job-1-r-00000-a2").ok());
  ASSERT_TRUE(fs.WriteFile("/out/part-r-00000", "x").ok());
  ASSERT_TRUE(fs.WriteFile("/out/_SUCCESS", "").ok());
  ASSERT_TRUE(fs.WriteFile("/out/_temporary/job-1-r-00000-a2/part-r-00000", "y").ok());
  EXPECT_EQ(c.CheckNew("/out", false).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(c.Setup("/out", false).code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(fs.Exists("/out/part-r-00000"));
  ASSERT_TRUE(c.Setup("/out", true).ok());
  EXPECT_FALSE(fs.Exists("/out/part-r-00000"));
  EXPECT_TRUE(fs.Exists("/out/_temporary"));
  // An empty directory is an output too (a job killed before any commit).
  ASSERT_TRUE(fs.CreateDirs("/empty").ok());
  EXPECT_TRUE(c.CheckNew("/empty", true).ok());
}

// --overwrite replaces only what a job writes: a directory holding anything else (a user's files,
// a master's or worker's data dir) is refused, at submission and again at the job's start.
TEST(OutputCommitterTest, OverwriteNeverReplacesWhatIsNotAnOutput) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  ASSERT_TRUE(fs.CreateDirs("/data/journal").ok());
  ASSERT_TRUE(fs.WriteFile("/data/LOCK", "").ok());
  ASSERT_TRUE(fs.WriteFile("/data/journal/CURRENT", "x").ok());
  ASSERT_TRUE(fs.CreateDirs("/mixed").ok());
  ASSERT_TRUE(fs.WriteFile("/mixed/part-r-00000", "x").ok());
  ASSERT_TRUE(fs.CreateDirs("/mixed/keep").ok());
  ASSERT_TRUE(fs.CreateDirs("/tricky/_temporary/job-1-r-00000-a1/nested").ok());
  for (const char* dir : {"/data", "/mixed", "/tricky"}) {
    Status st = c.CheckNew(dir, true);
    EXPECT_EQ(st.code(), Status::Code::kAlreadyExists) << dir;
    EXPECT_NE(st.message().find("is not an mr output"), std::string::npos) << st.message();
    EXPECT_EQ(c.Setup(dir, true).code(), Status::Code::kAlreadyExists) << dir;
  }
  EXPECT_TRUE(fs.Exists("/data/journal/CURRENT"));
  EXPECT_TRUE(fs.Exists("/mixed/part-r-00000"));
}


TEST(OutputCommitterTest, ResumeMakesTheTemporaryDirAgainAndSaysWhichReducesAreInPlace) {
  InMemoryFileSystem fs;
  OutputCommitter c(&fs);
  ASSERT_TRUE(c.Setup("/out", false).ok());
  std::string f = AttemptOutputFile("/out", 7, 1, 1);
  ASSERT_TRUE(fs.CreateDirs(f.substr(0, f.rfind('/'))).ok());
  ASSERT_TRUE(fs.WriteFile(f, "one").ok());
  ASSERT_TRUE(c.CommitTask("/out", 1, f).ok());
  ASSERT_TRUE(c.Cleanup("/out").ok());
  ResumedOutput r = c.Resume("/out", 3);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.committed, (std::vector<bool>{false, true, false}));
  EXPECT_TRUE(fs.Exists("/out/_temporary"));
}

}  // namespace
}  // namespace mr
