// A pipeline's spec as the master prepares it, and what it owes each step as it ends.
#include "master/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/job_files.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

class PipelineTest : public ::testing::Test {
 protected:
  proto::JobSpec Head() {
    proto::JobSpec s;
    s.set_job("wordcount");
    s.add_inputs(tmp_ / "in");
    s.set_output(tmp_ / "top");
    s.set_owner("alice");
    s.set_priority(proto::PRIORITY_HIGH);
    proto::JobSpec* topn = s.add_then();
    topn->set_job("topn");
    (*topn->mutable_args())["n"] = "3";
    proto::JobSpec* last = s.add_then();
    last->set_mapper("cat");
    return s;
  }

  TempDir tmp_;
  OutputCommitter committer_{FileSystem::Default()};
};

TEST_F(PipelineTest, EachStepGetsItsOutputAndTheFirstStepsSettings) {
  proto::JobSpec s = Head();
  ASSERT_TRUE(PreparePipeline(&s, committer_).ok());
  EXPECT_EQ(s.output(), tmp_ / ".top.step-1");
  EXPECT_TRUE(s.overwrite());  // one a crash left is replaced
  EXPECT_EQ(s.then(0).output(), tmp_ / ".top.step-2");
  EXPECT_EQ(s.then(1).output(), tmp_ / "top");
  EXPECT_FALSE(s.then(1).overwrite());
  for (const proto::JobSpec& step : s.then()) {
    EXPECT_TRUE(step.input_is_step());
    EXPECT_EQ(step.owner(), "alice");
    EXPECT_EQ(step.priority(), proto::PRIORITY_HIGH);
  }
  EXPECT_EQ(s.then(1).job(), "streaming");

  // The step after a succeeded one reads its output and carries the rest.
  proto::JobStatus done;
  done.set_job_id(7);
  done.set_state(proto::JOB_SUCCEEDED);
  done.set_end_time_ms(1);
  *done.mutable_spec() = s;
  EXPECT_TRUE(AwaitsNextStep(done));
  proto::JobSpec next = NextStepSpec(done);
  EXPECT_EQ(next.job(), "topn");
  ASSERT_EQ(next.inputs_size(), 1);
  EXPECT_EQ(next.inputs(0), tmp_ / ".top.step-1");
  ASSERT_EQ(next.then_size(), 1);
  EXPECT_EQ(next.then(0).job(), "streaming");
  done.set_next_job_id(8);
  EXPECT_FALSE(AwaitsNextStep(done));
  done.set_next_job_id(0);
  done.set_state(proto::JOB_KILLED);
  EXPECT_FALSE(AwaitsNextStep(done));
}

TEST_F(PipelineTest, WhatCannotRunIsRefusedAtTheFirstStep) {
  proto::JobSpec s = Head();
  s.mutable_then(0)->set_job("nope");
  EXPECT_NE(PreparePipeline(&s, committer_).message().find("--then step 1"), std::string::npos);
  s = Head();
  s.mutable_then(1)->add_inputs("/elsewhere");
  EXPECT_EQ(PreparePipeline(&s, committer_).code(), Status::Code::kInvalidArgument);
  s = Head();
  fs::create_directories(tmp_ / "top");
  EXPECT_EQ(PreparePipeline(&s, committer_).code(), Status::Code::kAlreadyExists);
  fs::remove(tmp_ / "top");
  s = Head();
  PathPolicy policy;
  policy.allow_output = {tmp_ / "allowed"};
  EXPECT_EQ(PreparePipeline(&s, committer_, policy).code(), Status::Code::kPermissionDenied);
  s = Head();
  for (int i = 0; i < kMaxPipelineSteps; i++) *s.add_then() = s.then(0);
  EXPECT_NE(PreparePipeline(&s, committer_).message().find("at most"), std::string::npos);
}

TEST_F(PipelineTest, ALaterStepsFilesAreKeptWhileThePipelineMayGoOn) {
  proto::JobStatus s;
  s.set_state(proto::JOB_SUCCEEDED);
  s.set_end_time_ms(1);
  s.mutable_spec()->add_files()->set_sha256("own");
  s.mutable_spec()->add_then()->add_files()->set_sha256("later");
  std::set<std::string> keep;
  FilesStillNeeded(s, &keep);
  EXPECT_EQ(keep, std::set<std::string>{"later"});  // its own are done with; the next step's not
  s.set_next_job_id(9);
  keep.clear();
  FilesStillNeeded(s, &keep);
  EXPECT_TRUE(keep.empty());  // the next step's job holds them now
  s.set_end_time_ms(0);
  s.set_state(proto::JOB_RUNNING);
  FilesStillNeeded(s, &keep);
  EXPECT_EQ(keep, (std::set<std::string>{"own", "later"}));
}

}  // namespace
}  // namespace mr
