#include "common/job_json.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

proto::JobStatus RunningJob() {
  proto::JobStatus s;
  s.set_job_id(7);
  s.mutable_spec()->set_job("wordcount");
  s.mutable_spec()->add_inputs("/in/a.txt");
  s.mutable_spec()->set_output("/out");
  s.mutable_spec()->set_reducers(2);
  (*s.mutable_spec()->mutable_args())["k"] = "v";
  s.set_state(proto::JOB_RUNNING);
  s.set_maps_total(6);
  s.set_maps_done(3);
  s.set_reduces_total(2);
  s.set_submit_time_ms(1000);
  s.set_start_time_ms(2000);
  (*s.mutable_counters())["map.input.bytes"] = 5000;
  auto* f = s.add_failed_attempts();
  f->set_kind(proto::TASK_REDUCE);
  f->set_index(1);
  f->set_attempt(2);
  f->set_worker("w1");
  f->set_error("boom");
  f->set_lost(true);
  return s;
}

TEST(JobJsonTest, RunningJob) {
  nlohmann::json j = JobStatusJson(RunningJob(), /*now_ms=*/4000);
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["job"], "wordcount");
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["maps"], (nlohmann::json{{"done", 3}, {"total", 6}}));
  EXPECT_EQ(j["reduces"], (nlohmann::json{{"done", 0}, {"total", 2}}));
  EXPECT_DOUBLE_EQ(j["progress"].get<double>(), 3.0 / 8);
  EXPECT_EQ(j["inputs"], nlohmann::json::array({"/in/a.txt"}));
  EXPECT_EQ(j["output"], "/out");
  EXPECT_EQ(j["reducers"], 2);
  EXPECT_EQ(j["args"]["k"], "v");
  EXPECT_EQ(j["elapsed_ms"], 2000);  // still running: until now
  EXPECT_DOUBLE_EQ(j["input_bytes_per_s"].get<double>(), 2500.0);
  EXPECT_EQ(j["counters"]["map.input.bytes"], 5000);
  EXPECT_EQ(j["error"], "");
  ASSERT_EQ(j["failed_attempts"].size(), 1u);
  EXPECT_EQ(j["failed_attempts"][0],
            (nlohmann::json{{"kind", "reduce"}, {"index", 1}, {"attempt", 2}, {"worker", "w1"},
                            {"error", "boom"}, {"time_ms", 0}, {"lost", true}}));
}

TEST(JobJsonTest, EndedAndEmptyJobs) {
  proto::JobStatus s = RunningJob();
  s.set_state(proto::JOB_SUCCEEDED);
  s.set_end_time_ms(3000);
  nlohmann::json j = JobStatusJson(s, /*now_ms=*/9999);
  EXPECT_EQ(j["state"], "succeeded");
  EXPECT_EQ(j["elapsed_ms"], 1000);  // ended: now does not matter
  EXPECT_EQ(j["end_time_ms"], 3000);

  proto::JobStatus empty;
  empty.set_state(proto::JOB_SUCCEEDED);
  EXPECT_EQ(JobStatusJson(empty, 0)["progress"], 1.0);
  empty.set_state(proto::JOB_QUEUED);
  EXPECT_EQ(JobStatusJson(empty, 0)["progress"], 0.0);
  EXPECT_EQ(JobStatusJson(empty, 0)["elapsed_ms"], 0);
  EXPECT_EQ(JobStatusJson(empty, 0)["counters"], nlohmann::json::object());
  EXPECT_EQ(JobStatusJson(empty, 0)["failed_attempts"], nlohmann::json::array());
}

}  // namespace
}  // namespace mr
