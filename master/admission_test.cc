// Job admission against real files: what is refused, and the split plan made at submission.
#include "master/admission.h"
#include "common/inputs.h"
#include "common/temp_dir_testing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <fmt/format.h>

namespace mr {
namespace {

namespace fs = std::filesystem;

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "in");
    std::ofstream(dir_ / "in/a.txt") << std::string(10000, 'a') << "\n";
  }

  proto::JobSpec Spec() {
    proto::JobSpec s;
    s.set_job("wordcount");
    s.add_inputs((dir_ / "in").string());
    s.set_output((dir_ / "out").string());
    s.set_reducers(2);
    s.set_split_size(4096);
    return s;
  }

  TempDir tmp_;
  fs::path dir_{tmp_.path()};
  OutputCommitter committer_{FileSystem::Default()};
};

TEST_F(AdmissionTest, SubmitValidates) {
  proto::JobSpec bad = Spec();
  bad.set_job("nope");
  EXPECT_EQ(AdmitJob(bad, committer_).status().code(), Status::Code::kNotFound);
  fs::create_directories(dir_ / "out");
  EXPECT_EQ(AdmitJob(Spec(), committer_).status().code(), Status::Code::kAlreadyExists);
  proto::JobSpec over = Spec();
  over.set_overwrite(true);
  EXPECT_TRUE(AdmitJob(over, committer_).ok());
  proto::JobSpec missing = over;
  missing.add_inputs((dir_ / "nothing-here").string());
  EXPECT_EQ(AdmitJob(missing, committer_).status().code(), Status::Code::kNotFound);
  proto::JobSpec many = over;
  many.set_reducers(100000);
  auto refused = AdmitJob(many, committer_);
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("--reducers 100000 is too many: at most 10000"), std::string::npos)
      << refused.status().message();
  many.set_reducers(kMaxReducers);
  EXPECT_TRUE(AdmitJob(many, committer_).ok());
  proto::JobSpec tiny = over;
  tiny.set_split_size(100);
  EXPECT_EQ(AdmitJob(tiny, committer_).status().code(), Status::Code::kInvalidArgument);
  // Paths are resolved by the client, in its own directory: a relative one is refused.
  for (int which = 0; which < 3; which++) {
    proto::JobSpec relative = over;
    if (which == 0) relative.add_inputs("in/a.txt");
    if (which == 1) relative.set_output("out");
    if (which == 2) relative.set_job_lib("job.so");
    auto r = AdmitJob(relative, committer_);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << which;
    EXPECT_NE(r.status().message().find("is a relative path"), std::string::npos) << r.status().message();
  }
}

TEST_F(AdmissionTest, AnOutputThatIsContainsOrLiesInAnInputIsRefused) {
  for (const fs::path& out : {dir_ / "in", dir_, dir_ / "in" / "out", dir_ / "in" / "a.txt"}) {
    proto::JobSpec spec = Spec();
    spec.set_output(out.string());
    spec.set_overwrite(true);
    auto r = AdmitJob(spec, committer_);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << out;
    EXPECT_NE(r.status().message().find("choose another output"), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(fs::exists(dir_ / "in" / "a.txt"));
  proto::JobSpec beside = Spec();
  beside.set_output((dir_ / "in-out").string());  // a sibling whose name starts the same is fine
  EXPECT_TRUE(AdmitJob(beside, committer_).ok());
}

TEST_F(AdmissionTest, PlansTheSplitsOnceAtSubmission) {
  auto job = AdmitJob(Spec(), committer_);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->input_bytes, 10001u);
  EXPECT_EQ(job->input_files, 1u);
  ASSERT_EQ(job->plan.splits_size(), 3);
  EXPECT_EQ(job->plan.splits(2).offset(), 8192u);
  EXPECT_EQ(job->plan.splits(2).length(), 10001u - 8192u);
  // Bytes appended later are not part of the job.
  std::ofstream(dir_ / "in/a.txt", std::ios::app) << std::string(5000, 'b');
  EXPECT_EQ(job->plan.splits(2).length(), 10001u - 8192u);
  EXPECT_TRUE(fs::path(job->spec.output()).is_absolute());
}

TEST_F(AdmissionTest, ManySmallFilesMakeFewCombinedSplits) {
  for (int i = 0; i < 2500; i++) std::ofstream(dir_ / "in" / fmt::format("f{:05}.txt", i)) << "line " << i << "\n";
  proto::JobSpec spec = Spec();
  spec.set_split_size(64 << 20);
  auto job = AdmitJob(spec, committer_);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->input_files, 2501u);
  ASSERT_EQ(job->plan.splits_size(), 3);  // 1024 + 1024 + 453 files
  const proto::InputSplit& first = job->plan.splits(0);
  EXPECT_TRUE(first.path().empty());
  ASSERT_EQ(first.parts_size(), static_cast<int>(kMaxSplitParts));
  EXPECT_EQ(first.parts(0).path(), (dir_ / "in/a.txt").string());
  EXPECT_EQ(first.parts(0).file_size(), 10001u);
  EXPECT_EQ(first.parts(1).path(), (dir_ / "in/f00000.txt").string());
  EXPECT_EQ(job->plan.splits(2).parts_size(), 2501 - 2 * static_cast<int>(kMaxSplitParts));
}

TEST_F(AdmissionTest, TooManyMapTasksIsRefusedNamingTheFix) {
  // A sparse file cut into more 4 KiB splits than a job may have.
  fs::path big = dir_ / "in/a.txt";
  fs::resize_file(big, (kMaxMapTasks + 1) * 4096);
  auto job = AdmitJob(Spec(), committer_);
  EXPECT_EQ(job.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(job.status().message().find("raise --split-size"), std::string::npos) << job.status().message();
}

// A map-only job keeps its 0 reducers; what it would silently not run is refused by name.
TEST_F(AdmissionTest, AMapOnlyJobNamesNoReduceSideWork) {
  proto::JobSpec s = Spec();
  s.set_reducers(0);
  EXPECT_EQ(AdmitJob(s, committer_)->spec.reducers(), 1u);  // 0 without map_only: the default
  s.set_map_only(true);
  auto ok = AdmitJob(s, committer_);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->spec.reducers(), 0u);
  s.set_reducers(2);
  EXPECT_EQ(AdmitJob(s, committer_).status().code(), Status::Code::kInvalidArgument);
  proto::JobSpec streaming = Spec();
  streaming.set_job("");
  streaming.set_mapper("cat");
  streaming.set_reducers(0);
  streaming.set_map_only(true);
  EXPECT_TRUE(AdmitJob(streaming, committer_).ok());
  for (auto [field, value] : {std::pair{"reducer", "wc -l"}, {"combiner", "uniq"}}) {
    proto::JobSpec bad = streaming;
    if (std::string(field) == "reducer") bad.set_reducer(value);
    if (std::string(field) == "combiner") bad.set_combiner(value);
    auto refused = AdmitJob(bad, committer_);
    EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument) << field;
    EXPECT_NE(refused.status().message().find("map-only"), std::string::npos) << refused.status().message();
  }
}

}  // namespace
}  // namespace mr
