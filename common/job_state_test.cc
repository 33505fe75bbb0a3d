#include "common/job_state.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(JobStateTest, NamesAndEnds) {
  EXPECT_EQ(JobStateName(proto::JOB_QUEUED), "queued");
  EXPECT_EQ(JobStateName(proto::JOB_RUNNING), "running");
  EXPECT_EQ(JobStateName(proto::JOB_SUCCEEDED), "succeeded");
  EXPECT_EQ(JobStateName(proto::JOB_FAILED), "failed");
  EXPECT_EQ(JobStateName(proto::JOB_KILLED), "killed");
  EXPECT_STREQ(TaskKindName(proto::TASK_MAP), "map");
  EXPECT_STREQ(TaskKindName(proto::TASK_REDUCE), "reduce");
  EXPECT_FALSE(Finished(proto::JOB_QUEUED));
  EXPECT_FALSE(Finished(proto::JOB_RUNNING));
  EXPECT_TRUE(Finished(proto::JOB_SUCCEEDED));
  EXPECT_TRUE(Finished(proto::JOB_FAILED));
  EXPECT_TRUE(Finished(proto::JOB_KILLED));
}

}  // namespace
}  // namespace mr
