// The master's disk full (a small tmpfs as its data dir): a submission it cannot journal is refused
// with a clear error, the master keeps serving, and once space is freed the next submission runs.
// Needs root (mount); skipped otherwise.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;

// A tmpfs mounted on `dir` for the test's lifetime (unmounted lazily, whatever happened).
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Writes zeros into `path` until the filesystem is full; returns the bytes written.
uint64_t Fill(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::string block(64 << 10, '\0');
  uint64_t n = 0;
  while (true) {
    size_t w = std::fwrite(block.data(), 1, block.size(), f);
    n += w;
    if (w < block.size() || std::fflush(f) != 0) break;
  }
  std::fclose(f);
  return n;
}

class DiskFullTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  std::unique_ptr<TmpfsMount> mount_;
  std::unique_ptr<Cluster> cluster_;  // stopped before the mount goes

  void TearDown() override {
    cluster_.reset();
    mount_.reset();
  }

  CommandResult Submit(const std::string& out) {
    return RunMr({"submit", "--quiet", "--master", cluster_->master_address(), "--job", "wordcount", "--input",
                  tmp_ / "in.txt", "--output", tmp_ / out});
  }
};

TEST_F(DiskFullTest, ASubmissionThatCannotBeJournaledIsRefusedAndTheMasterKeepsServing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  mount_ = std::make_unique<TmpfsMount>(tmp_ / "cluster/master", "8m");
  if (!mount_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  WriteFile(tmp_ / "in.txt", "some words and more words\n");
  cluster_ = std::make_unique<Cluster>(tmp_ / "cluster");
  ASSERT_TRUE(cluster_->StartMaster().ok());
  ASSERT_TRUE(cluster_->StartWorker().ok());
  ASSERT_TRUE(cluster_->WaitForWorkers(1).ok());

  ASSERT_GT(Fill(tmp_ / "cluster/master/filler"), 0u);
  CommandResult refused = Submit("out1");
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("journal"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("No space left"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_TRUE(cluster_->MasterAlive());
  CommandResult jobs = RunMr({"jobs", "--master", cluster_->master_address()});
  EXPECT_EQ(jobs.exit_code, 0) << jobs.out << jobs.err;

  fs::remove(tmp_ / "cluster/master/filler");
  // The journal may need a moment to leave its error state: the next submissions are retried
  // until one is accepted (bounded), and that one runs to the end.
  CommandResult ok;
  for (int i = 0; i < 50; i++) {
    ok = Submit("out2");
    if (ok.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  uint64_t id = std::stoull(ok.out);
  JobState js = cluster_->WaitForJob(id, std::chrono::seconds(60));
  EXPECT_EQ(js.state, "succeeded") << js.json;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "out2", 1)), "and\t1\nmore\t1\nsome\t1\nwords\t2\n");
  EXPECT_TRUE(cluster_->MasterAlive());
}

// The disk fills while a job runs: what cannot be journaled is held back (the master keeps
// running), and once space is freed the job finishes with the exact output.
TEST_F(DiskFullTest, AJobRunningWhenTheDiskFillsFinishesOnceSpaceIsFreed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  mount_ = std::make_unique<TmpfsMount>(tmp_ / "cluster/master", "8m");
  if (!mount_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  std::string text;
  for (int i = 0; i < 4000; i++) text += "alpha beta gamma\n";
  WriteFile(tmp_ / "in.txt", text);
  cluster_ = std::make_unique<Cluster>(tmp_ / "cluster");
  ASSERT_TRUE(cluster_->StartMaster().ok());
  ASSERT_TRUE(cluster_->StartWorker({"--slots", "2"}, {"MR_FAILPOINTS=map.after_read=delay(300ms)"}).ok());
  ASSERT_TRUE(cluster_->WaitForWorkers(1).ok());
  CommandResult submit = RunMr({"submit", "--quiet", "--master", cluster_->master_address(), "--job", "wordcount",
                                "--input", tmp_ / "in.txt", "--output", tmp_ / "out", "--split-size", "4k"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  uint64_t id = std::stoull(submit.out);
  bool filled = false, freed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  JobState js = cluster_->WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (!filled && s.maps_done >= 2) {
      filled = Fill(tmp_ / "cluster/master/filler") > 0;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    } else if (filled && !freed && std::chrono::steady_clock::now() > deadline) {
      EXPECT_TRUE(cluster_->MasterAlive());
      fs::remove(tmp_ / "cluster/master/filler");
      freed = true;
    }
  });
  EXPECT_TRUE(filled);
  EXPECT_EQ(js.state, "succeeded") << js.json;
  // The full disk was noticed, and what it protected was held back rather than sent.
  std::string log = ReadFile(tmp_ / "cluster/master.log");
  EXPECT_NE(log.find("wait until the journal can be written"), std::string::npos) << log;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "out", 1)), "alpha\t4000\nbeta\t4000\ngamma\t4000\n");
  EXPECT_TRUE(cluster_->MasterAlive());
}

}  // namespace
}  // namespace mr::testing
