// The scheduler driven directly, with time passed in: no network, real files.
#include "master/scheduler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mr {
namespace {

namespace fs = std::filesystem;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mr-sched-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    std::ofstream(dir_ / "in/a.txt") << std::string(10000, 'a') << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  proto::JobSpec Spec(uint32_t reducers = 2) {
    proto::JobSpec s;
    s.set_job("wordcount");
    s.add_inputs((dir_ / "in").string());
    s.set_output((dir_ / "out").string());
    s.set_reducers(reducers);
    s.set_split_size(4096);
    return s;
  }
  // Reports success for an assignment; a reduce writes its file where a worker would.
  proto::TaskReport Success(const proto::AssignTask& a) {
    proto::TaskReport r;
    r.set_job_id(a.job_id());
    r.set_kind(a.kind());
    r.set_index(a.index());
    r.set_attempt(a.attempt());
    r.set_ok(true);
    (*r.mutable_counters())["map.input.records"] = 1;
    if (a.kind() == proto::TASK_REDUCE) {
      fs::path d = dir_ / "out/_temporary" / ("a" + std::to_string(a.index()) + "-" + std::to_string(a.attempt()));
      fs::create_directories(d);
      char name[32];
      std::snprintf(name, sizeof(name), "part-r-%05u", a.index());
      std::ofstream(d / name) << "word\t" << a.index() << "\n";
      r.set_output_file((d / name).string());
    }
    return r;
  }
  proto::TaskReport Failure(const proto::AssignTask& a, const std::string& error) {
    proto::TaskReport r = Success(a);
    r.set_ok(false);
    r.set_error(error);
    return r;
  }

  fs::path dir_;
  Scheduler s_;
  int64_t now_ = 1000;
};

TEST_F(SchedulerTest, RunsMapsThenReducesAndCommitsOnce) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.AddWorker("w2", "127.0.0.1:2", 2, now_);
  s_.Schedule(now_, &fx);
  // 10001 bytes in 4096-byte splits: 3 maps, all running; no reduce before the maps are done.
  ASSERT_EQ(fx.assignments.size(), 3u);
  for (auto& [w, a] : fx.assignments) EXPECT_EQ(a.kind(), proto::TASK_MAP);
  auto maps = fx.assignments;
  for (auto& [w, a] : maps) {
    Effects f2;
    s_.OnReport(w, Success(a), now_, &f2);
    fx = f2;
  }
  ASSERT_EQ(fx.assignments.size(), 2u);
  auto reduces = fx.assignments;
  for (auto& [w, a] : reduces) {
    ASSERT_EQ(a.kind(), proto::TASK_REDUCE);
    ASSERT_EQ(a.map_outputs_size(), 3);
    EXPECT_FALSE(a.map_outputs(0).address().empty());
  }
  Effects f3;
  s_.OnReport(reduces[0].first, Success(reduces[0].second), now_, &f3);
  // A duplicate report of a finished attempt changes nothing.
  s_.OnReport(reduces[0].first, Success(reduces[0].second), now_, &f3);
  EXPECT_FALSE(fs::exists(dir_ / "out/_SUCCESS"));
  s_.OnReport(reduces[1].first, Success(reduces[1].second), now_, &f3);
  auto st = s_.JobStatus(1);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(st->counters().at("map.input.records"), 5);  // 3 maps + 2 reduces, each counted once
  EXPECT_TRUE(fs::exists(dir_ / "out/_SUCCESS"));
  EXPECT_TRUE(fs::exists(dir_ / "out/part-r-00001"));
  EXPECT_FALSE(fs::exists(dir_ / "out/_temporary"));
  EXPECT_EQ(f3.ended_jobs, std::vector<uint64_t>{1});
}

TEST_F(SchedulerTest, FailedAttemptsAreRetriedThenFailTheJob) {
  Effects fx;
  proto::JobSpec spec = Spec(1);
  spec.set_split_size(1 << 20);
  ASSERT_TRUE(s_.Submit(1, spec, now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 1, now_);
  s_.Schedule(now_, &fx);
  for (uint32_t attempt = 1; attempt <= kMaxAttempts; attempt++) {
    ASSERT_EQ(fx.assignments.size(), 1u) << attempt;
    auto [w, a] = fx.assignments[0];
    EXPECT_EQ(a.attempt(), attempt);
    fx = Effects();
    s_.OnReport(w, Failure(a, "disk on fire"), now_, &fx);
  }
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_NE(st->error().find("map task 0 failed 4 times; last error: disk on fire"), std::string::npos)
      << st->error();
}

TEST_F(SchedulerTest, DeadWorkersWorkIsRescheduledAndLateReportsIgnored) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 3, now_);
  s_.Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  auto first = fx.assignments;
  Effects f2;
  s_.OnReport("w1", Success(first[0].second), now_, &f2);  // map 0 done on w1
  s_.AddWorker("w2", "127.0.0.1:2", 3, now_ + 5000);
  EXPECT_EQ(s_.SilentWorkers(now_ + 5000, 2000), std::vector<std::string>{"w1"});
  Effects f3;
  s_.RemoveWorker("w1", "test", now_ + 5000, &f3);
  // All three maps go to w2: two were running on w1, and map 0's output died with w1.
  ASSERT_EQ(f3.assignments.size(), 3u);
  for (auto& [w, a] : f3.assignments) {
    EXPECT_EQ(w, "w2");
    EXPECT_EQ(a.attempt(), a.index() == 0 ? 2u : 2u);
  }
  // The dead worker's late report is ignored.
  Effects f4;
  s_.OnReport("w1", Success(first[1].second), now_, &f4);
  EXPECT_EQ(s_.JobStatus(1)->maps_done(), 0u);
}

TEST_F(SchedulerTest, SubmitValidates) {
  Effects fx;
  proto::JobSpec bad = Spec();
  bad.set_job("nope");
  EXPECT_EQ(s_.Submit(1, bad, now_, &fx).status().code(), Status::Code::kNotFound);
  fs::create_directories(dir_ / "out");
  EXPECT_EQ(s_.Submit(2, Spec(), now_, &fx).status().code(), Status::Code::kAlreadyExists);
  proto::JobSpec over = Spec();
  over.set_overwrite(true);
  EXPECT_TRUE(s_.Submit(3, over, now_, &fx).ok());
}

}  // namespace
}  // namespace mr
