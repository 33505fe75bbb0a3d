// The worker's cache of job files, with the master's side played by the test: what is asked for,
// answered (or not), and what reaches an attempt's working directory.
#include "worker/job_file_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "common/job_files.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

proto::JobFile File(const std::string& name, const std::string& content, bool executable) {
  proto::JobFile f;
  f.set_name(name);
  f.set_size(content.size());
  f.set_sha256(Sha256Hex(content));
  f.set_executable(executable);
  return f;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class JobFileCacheTest : public ::testing::Test {
 protected:
  TempDir tmp_;  // first: the cache below lives in it
  // A master that answers every ask from its own thread, with `content_` (or an error).
  JobFileCache cache_{tmp_ / "cache", [this](uint64_t job, const std::string& sha) {
                        asked_.push_back(sha);
                        proto::JobFileReply r;
                        r.set_sha256(sha);
                        if (answer_error_.empty()) r.set_content(contents_[sha]);
                        else r.set_error(answer_error_);
                        if (answer_) answers_.emplace_back([this, r] { cache_.Deliver(r); });
                        if (!lose_.empty()) answers_.emplace_back([this] { cache_.FailPending(lose_); });
                      }};
  ~JobFileCacheTest() override {
    for (auto& t : answers_) t.join();
  }
  proto::AssignTask Task(uint64_t job, std::vector<proto::JobFile> files) {
    proto::AssignTask t;
    t.set_job_id(job);
    for (auto& f : files) *t.add_files() = f;
    return t;
  }

  std::map<std::string, std::string> contents_;
  std::vector<std::string> asked_;
  std::vector<std::thread> answers_;
  std::string answer_error_;
  bool answer_ = true;
  std::string lose_;  // set: the connection is lost once asked
};

TEST_F(JobFileCacheTest, FetchesOnceAndLaysOutEachAttemptsCopy) {
  const proto::JobFile script = File("job.sh", "echo hi\n", true), data = File("words.txt", "a b\n", false);
  contents_[script.sha256()] = "echo hi\n";
  contents_[data.sha256()] = "a b\n";
  ASSERT_TRUE(cache_.Prepare(Task(1, {script, data}), tmp_ / "w1", Millis(5000), nullptr).ok());
  EXPECT_EQ(Read(tmp_ / "w1/job.sh"), "echo hi\n");
  EXPECT_EQ(Read(tmp_ / "w1/words.txt"), "a b\n");
  EXPECT_EQ(fs::status(tmp_ / "w1/job.sh").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(fs::status(tmp_ / "w1/words.txt").permissions() & fs::perms::owner_exec, fs::perms::none);
  // A second attempt, of another job shipping the same script: from the cache, not asked again.
  ASSERT_TRUE(cache_.Prepare(Task(2, {script}), tmp_ / "w2", Millis(5000), nullptr).ok());
  EXPECT_EQ(asked_.size(), 2u);
  // An attempt's changes stay its own.
  std::ofstream(tmp_ / "w1/job.sh") << "rm -rf /\n";
  ASSERT_TRUE(cache_.Prepare(Task(2, {script}), tmp_ / "w3", Millis(5000), nullptr).ok());
  EXPECT_EQ(Read(tmp_ / "w3/job.sh"), "echo hi\n");
  // Job 1 ends: its data file goes; the script stays while job 2 uses it.
  cache_.DropJob(1);
  EXPECT_FALSE(fs::exists(tmp_ / ("cache/" + data.sha256())));
  EXPECT_TRUE(fs::exists(tmp_ / ("cache/" + script.sha256())));
  cache_.DropJob(2);
  EXPECT_FALSE(fs::exists(tmp_ / ("cache/" + script.sha256())));
}

TEST_F(JobFileCacheTest, WrongBytesAnErrorOrNoAnswerFailTheAttemptAndAreAskedAgain) {
  const proto::JobFile script = File("job.sh", "echo hi\n", true);
  contents_[script.sha256()] = "echo evil\n";  // not the digest's bytes
  Status s = cache_.Prepare(Task(1, {script}), tmp_ / "w1", Millis(5000), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.message();
  EXPECT_FALSE(fs::exists(tmp_ / ("cache/" + script.sha256())));
  answer_error_ = "job 1 has ended";
  s = cache_.Prepare(Task(1, {script}), tmp_ / "w2", Millis(5000), nullptr);
  EXPECT_NE(s.message().find("job 1 has ended"), std::string::npos) << s.message();
  answer_ = false;  // the master never answers: bounded by the timeout
  s = cache_.Prepare(Task(1, {script}), tmp_ / "w3", Millis(200), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.message();
  // ... or ended at once by a lost connection.
  lose_ = "connection closed";
  s = cache_.Prepare(Task(1, {script}), tmp_ / "w4", Millis(60000), nullptr);
  EXPECT_NE(s.message().find("connection closed"), std::string::npos) << s.message();
  EXPECT_EQ(asked_.size(), 4u);  // each failed fetch asked again by the next attempt
}

}  // namespace
}  // namespace mr
