#include "jobs/streaming_env.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mr {
namespace {

// The value of `name` in `env`, or "(unset)".
std::string Get(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& kv : env) {
    if (kv.starts_with(name + "=")) return kv.substr(name.size() + 1);
  }
  return "(unset)";
}

TEST(StreamingEnvTest, HadoopsNamesForAMapAttempt) {
  TaskIdentity t{7, true, 3, 2, 4, {}};
  InputSplitInfo in{"/data/a b.txt", 1024, 4096};
  JobArgs args = {{"mapreduce.job.name", "counts"}, {"my-prop", "x=y"}};
  auto env = StreamingEnvironment(args, &t, &in);
  EXPECT_EQ(Get(env, "mapreduce_job_id"), "job_mr_0007");
  EXPECT_EQ(Get(env, "mapred_job_id"), "job_mr_0007");
  EXPECT_EQ(Get(env, "mapreduce_task_id"), "task_mr_0007_m_000003");
  EXPECT_EQ(Get(env, "mapred_tip_id"), "task_mr_0007_m_000003");
  EXPECT_EQ(Get(env, "mapreduce_task_attempt_id"), "attempt_mr_0007_m_000003_1");  // attempt 2, from 0
  EXPECT_EQ(Get(env, "mapred_task_id"), "attempt_mr_0007_m_000003_1");
  EXPECT_EQ(Get(env, "mapreduce_task_partition"), "3");
  EXPECT_EQ(Get(env, "mapreduce_task_ismap"), "true");
  EXPECT_EQ(Get(env, "mapred_task_is_map"), "true");
  EXPECT_EQ(Get(env, "mapreduce_job_reduces"), "4");
  EXPECT_EQ(Get(env, "mapred_reduce_tasks"), "4");
  EXPECT_EQ(Get(env, "mapreduce_map_input_file"), "/data/a b.txt");
  EXPECT_EQ(Get(env, "map_input_file"), "/data/a b.txt");
  EXPECT_EQ(Get(env, "mapreduce_map_input_start"), "1024");
  EXPECT_EQ(Get(env, "map_input_length"), "4096");
  EXPECT_EQ(Get(env, "mapreduce_job_name"), "counts");
  EXPECT_EQ(Get(env, "my_prop"), "x=y");
  EXPECT_NE(Get(env, "PATH"), "(unset)");  // the worker's own environment is there
}

TEST(StreamingEnvTest, AReduceHasNoInputAndCmdenvWins) {
  TaskIdentity t{12345, false, 0, 1, 1, {}};
  JobArgs args = {{"GREETING", "from-property"}};
  ASSERT_TRUE(AddCmdEnv("GREETING=hello", &args).ok());
  ASSERT_TRUE(AddCmdEnv("EMPTY=", &args).ok());
  EXPECT_EQ(args[kCmdEnvProperty], "GREETING=hello EMPTY=");
  auto env = StreamingEnvironment(args, &t, nullptr);
  EXPECT_EQ(Get(env, "mapreduce_task_attempt_id"), "attempt_mr_12345_r_000000_0");
  EXPECT_EQ(Get(env, "mapreduce_task_ismap"), "false");
  EXPECT_EQ(Get(env, "mapreduce_map_input_file"), "(unset)");
  EXPECT_EQ(Get(env, "GREETING"), "hello");
  EXPECT_EQ(Get(env, "EMPTY"), "");
  EXPECT_EQ(Get(env, "stream_addenvironment"), "(unset)");
}

TEST(StreamingEnvTest, BadCmdenvIsRefusedByName) {
  JobArgs args;
  for (const char* bad : {"NOEQUALS", "=x", "1X=y", "A-B=c", "A=b c"}) {
    Status s = AddCmdEnv(bad, &args);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
  EXPECT_TRUE(args.empty());
}

TEST(StreamingEnvTest, NoCredentialOfTheWorkerReachesTheCommands) {
  ::setenv("MR_TOKEN", "secret-token", 1);
  auto env = StreamingEnvironment({}, nullptr, nullptr);
  ::unsetenv("MR_TOKEN");
  EXPECT_EQ(Get(env, "MR_TOKEN"), "(unset)");
}

}  // namespace
}  // namespace mr
