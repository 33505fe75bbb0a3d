// The scheduler driven directly, with time passed in: no network, real files.
#include "master/scheduler.h"

#include "master/scheduler_testing.h"
#include "worker/shuffle_fetch.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <set>

namespace mr {
namespace {

class SchedulerTest : public testing::SchedulerFixture {
 protected:
  AdmittedJob Spec(uint32_t reducers = 2, uint32_t maps = 3) { return testing::TestJob(reducers, maps); }
  // Reports success for an assignment; a reduce writes its file where a worker would.
  proto::TaskReport Success(const proto::AssignTask& a) {
    proto::TaskReport r = EndOf(a, true, "", "word\t" + std::to_string(a.index()) + "\n");
    (*r.mutable_counters())["map.input.records"] = 1;
    return r;
  }
  proto::TaskReport Failure(const proto::AssignTask& a, const std::string& error) {
    proto::TaskReport r = EndOf(a, false, error, "");
    (*r.mutable_counters())["map.input.records"] = 1;
    return r;
  }
  // Job 1 (one reducer, `maps` maps) on two workers of one slot, w1 and w2, scheduled once: the
  // first assignments.
  Effects StartOnTwoWorkers(uint32_t maps) {
    Effects fx;
    EXPECT_TRUE(s_.Submit(1, Spec(1, maps), now_, &fx).ok());
    s_.AddWorker("w1", "127.0.0.1:1", 1, now_);
    s_.AddWorker("w2", "127.0.0.1:2", 1, now_);
    Schedule(now_, &fx);
    return fx;
  }

  int64_t now_ = 1000;
};

TEST_F(SchedulerTest, RunsMapsThenReducesAndCommitsOnce) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.AddWorker("w2", "127.0.0.1:2", 2, now_);
  Schedule(now_, &fx);
  // 10001 bytes in 4096-byte splits: 3 maps, all running; no reduce before the maps are done.
  ASSERT_EQ(fx.assignments.size(), 3u);
  for (auto& [w, a] : fx.assignments) EXPECT_EQ(a.kind(), proto::TASK_MAP);
  auto maps = fx.assignments;
  for (auto& [w, a] : maps) {
    Effects f2;
    OnReport(w, Success(a), now_, &f2);
    fx = f2;
  }
  ASSERT_EQ(fx.assignments.size(), 2u);
  auto reduces = fx.assignments;
  for (auto& [w, a] : reduces) {
    ASSERT_EQ(a.kind(), proto::TASK_REDUCE);
    auto outputs = MapOutputsOf(a);
    ASSERT_TRUE(outputs.ok());
    ASSERT_EQ(outputs->size(), 3u);
    EXPECT_FALSE((*outputs)[0].address().empty());
    std::set<std::string> addresses;
    for (auto& loc : *outputs) addresses.insert(loc.address());
    EXPECT_EQ(static_cast<size_t>(a.map_output_groups_size()), addresses.size());  // each address once
  }
  Effects f3;
  OnReport(reduces[0].first, Success(reduces[0].second), now_, &f3);
  // A duplicate report of a finished attempt changes nothing.
  OnReport(reduces[0].first, Success(reduces[0].second), now_, &f3);
  EXPECT_FALSE(fs_.Exists("/out/_SUCCESS"));
  OnReport(reduces[1].first, Success(reduces[1].second), now_, &f3);
  auto st = s_.JobStatus(1);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(st->counters().at("map.input.records"), 5);  // 3 maps + 2 reduces, each counted once
  // Only the committed parts and _SUCCESS are left in the output.
  EXPECT_EQ(fs_.ListUnder("/out"), (std::set<std::string>{"/out/_SUCCESS", "/out/part-r-00000", "/out/part-r-00001"}));
  EXPECT_EQ(fs_.files().at("/out/part-r-00001"), "word\t1\n");
  EXPECT_EQ(f3.ended_jobs, std::vector<uint64_t>{1});
}

// Commits are effects: a reduce is done only when the master reports its commit done; a failed
// commit fails the attempt (charged, retried); a second attempt that succeeds meanwhile is
// superseded; the job's _SUCCESS is one more commit, and a job that ends drops what is pending.
TEST_F(SchedulerTest, CommitsAreAskedForAndTheirResultsDecide) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(/*reducers=*/2, /*maps=*/1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.AddWorker("w2", "127.0.0.1:2", 2, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);
  Effects f1;
  s_.OnReport(fx.assignments[0].first, Success(fx.assignments[0].second), now_, &f1);
  EXPECT_TRUE(f1.commits.empty());  // a map commits nothing
  ASSERT_EQ(f1.assignments.size(), 2u);
  auto r0 = f1.assignments[0], r1 = f1.assignments[1];
  ASSERT_EQ(r0.second.index(), 0u);

  // Reduce 0 reports success: a commit is asked for, and the task is not done until it is told.
  Effects f2;
  s_.OnReport(r0.first, Success(r0.second), now_ + 10, &f2);
  ASSERT_EQ(f2.commits.size(), 1u);
  const CommitRequest c0 = f2.commits[0];
  EXPECT_EQ(c0.job_id, 1u);
  EXPECT_EQ(c0.output, "/out");
  EXPECT_EQ(c0.partition, 0u);
  EXPECT_EQ(c0.attempt, r0.second.attempt());
  EXPECT_TRUE(f2.changed_tasks.empty());
  EXPECT_EQ(s_.JobStatus(1)->reduces_done(), 0u);
  // The commit failed: the attempt fails, is charged, and the task runs again.
  Effects f3;
  s_.OnCommitted(c0, Status::IoError("cannot commit: disk gone"), now_ + 20, &f3);
  ASSERT_EQ(f3.assignments.size(), 1u);
  EXPECT_EQ(f3.assignments[0].second.index(), 0u);
  EXPECT_EQ(f3.assignments[0].second.attempt(), 2u);
  auto tasks = s_.Tasks(1, now_ + 20);
  ASSERT_TRUE(tasks.ok());
  const proto::TaskHistory& t0 = (*tasks)[1];
  ASSERT_EQ(t0.kind(), proto::TASK_REDUCE);
  EXPECT_EQ(t0.failures(), 1u);
  EXPECT_EQ(t0.history(0).outcome(), "failed");
  EXPECT_EQ(t0.history(0).error(), "cannot commit: disk gone");
  // A result for an attempt that is not committing changes nothing.
  Effects stale;
  s_.OnCommitted(c0, Status::OK(), now_ + 21, &stale);
  EXPECT_TRUE(stale.changed_tasks.empty());

  // The retry commits; reduce 1 then commits too, and only then is the job's _SUCCESS asked for.
  Effects f4;
  s_.OnReport(f3.assignments[0].first, Success(f3.assignments[0].second), now_ + 30, &f4);
  ASSERT_EQ(f4.commits.size(), 1u);
  s_.OnCommitted(f4.commits[0], Status::OK(), now_ + 30, &f4);
  EXPECT_EQ(s_.JobStatus(1)->reduces_done(), 1u);
  Effects f5;
  s_.OnReport(r1.first, Success(r1.second), now_ + 40, &f5);
  ASSERT_EQ(f5.commits.size(), 1u);
  s_.OnCommitted(f5.commits[0], Status::OK(), now_ + 40, &f5);
  ASSERT_EQ(f5.commits.size(), 2u);
  EXPECT_FALSE(f5.commits[1].partition.has_value());  // the job's own commit
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_RUNNING);
  Effects f6;
  s_.OnCommitted(f5.commits[1], Status::IoError("cannot write _SUCCESS"), now_ + 50, &f6);
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_FAILED);
  EXPECT_EQ(s_.JobStatus(1)->error(), "cannot write _SUCCESS");
  EXPECT_EQ(f6.cleanups, (std::vector<CleanupRequest>{{"/out", /*discard=*/true}}));
  EXPECT_EQ(f6.ended_jobs, std::vector<uint64_t>{1});
}

// A job killed while a reduce's commit is pending: the commit is dropped, its attempt is killed,
// and the output's _temporary is to be removed.
TEST_F(SchedulerTest, AJobThatEndsDropsItsPendingCommits) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(/*reducers=*/1, /*maps=*/1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  Schedule(now_, &fx);
  Effects f1;
  s_.OnReport("w1", Success(fx.assignments[0].second), now_, &f1);
  ASSERT_EQ(f1.assignments.size(), 1u);
  Effects f2;
  s_.OnReport("w1", Success(f1.assignments[0].second), now_ + 10, &f2);
  ASSERT_EQ(f2.commits.size(), 1u);
  ASSERT_TRUE(s_.Kill(1, now_ + 20, &f2).ok());
  EXPECT_TRUE(f2.commits.empty());  // asked for in the same step: never carried out
  EXPECT_EQ(f2.cleanups, (std::vector<CleanupRequest>{{"/out", /*discard=*/true}}));
  auto tasks = s_.Tasks(1, now_ + 20);
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ((*tasks)[1].history(0).outcome(), "killed");
  Effects late;
  s_.OnCommitted({1, "/out", 0u, 1, {}}, Status::OK(), now_ + 30, &late);
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_KILLED);
  EXPECT_TRUE(late.changed_tasks.empty() && late.commits.empty());
}

TEST_F(SchedulerTest, FailedAttemptsAreRetriedThenFailTheJob) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1, 1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 1, now_);
  Schedule(now_, &fx);
  for (uint32_t attempt = 1; attempt <= kMaxAttempts; attempt++) {
    ASSERT_EQ(fx.assignments.size(), 1u) << attempt;
    auto [w, a] = fx.assignments[0];
    EXPECT_EQ(a.attempt(), attempt);
    fx = Effects();
    OnReport(w, Failure(a, "disk on fire"), now_, &fx);
  }
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_NE(st->error().find("map task 0 failed 4 times; last error: disk on fire"), std::string::npos)
      << st->error();
}

// --skip-bad-records: a map attempt that died on a record is not charged, later attempts skip it
// (and the journal keeps it); one bad record more than allowed fails the job, naming them all.
TEST_F(SchedulerTest, BadRecordsAreSkippedUnchargedUpToTheAllowance) {
  Effects fx;
  AdmittedJob job = Spec(1, 1);
  job.spec.set_job_lib("/lib/poison.so");
  job.spec.set_skip_bad_records(1);
  ASSERT_TRUE(s_.Submit(1, job, now_, &fx).ok());
  WorkerRegistration reg;
  reg.id = "w1";
  reg.address = "127.0.0.1:1";
  reg.allow_user_code = true;
  (void)s_.AddWorker(reg, now_, &fx);
  Schedule(now_, &fx);
  auto bad = [&](const proto::AssignTask& a, uint64_t offset, const std::string& what) {
    proto::TaskReport r = Failure(a, "the task process of map 0 died of signal 11 (SIGSEGV) at " + what);
    r.mutable_bad_record()->set_offset(offset);
    r.mutable_bad_record()->set_description(what);
    return r;
  };
  ASSERT_EQ(fx.assignments.size(), 1u);
  auto [w, first] = fx.assignments[0];
  EXPECT_EQ(first.skip_bad_records(), 1u);
  EXPECT_EQ(first.skip_records_size(), 0);
  fx = Effects();
  OnReport(w, bad(first, 100, "input record 5 (byte 100 of /in/a.txt)"), now_, &fx);
  bool journaled = false;
  for (const proto::TaskRecord& t : fx.changed_tasks) {
    if (t.skipped_size() == 0) continue;
    journaled = t.skipped_size() == 1 && t.skipped(0).offset() == 100;
    EXPECT_EQ(t.failures(), 0u);  // uncharged
  }
  EXPECT_TRUE(journaled);
  ASSERT_EQ(fx.assignments.size(), 1u);
  const proto::AssignTask second = fx.assignments[0].second;
  ASSERT_EQ(second.skip_records_size(), 1);
  EXPECT_EQ(second.skip_records(0).offset(), 100u);
  EXPECT_EQ(s_.JobStatus(1)->counters().at("attempts.failed"), 1);  // a failed attempt all the same
  fx = Effects();
  OnReport(w, bad(second, 200, "input record 9 (byte 200 of /in/a.txt)"), now_, &fx);
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_NE(st->error().find("map 0 has more bad records than --skip-bad-records 1 allows"), std::string::npos)
      << st->error();
  EXPECT_NE(st->error().find("at input record 9 (byte 200"), std::string::npos) << st->error();
  EXPECT_NE(st->error().find("skipped before it: input record 5 (byte 100"), std::string::npos) << st->error();
}

// A worker out of descriptors fails every attempt at once: alone, the retries back off (1, 2, 4 s)
// instead of burning every attempt in a second, and each failure is still charged.
TEST_F(SchedulerTest, ResourceFailuresAloneBackOffAndAreStillCharged) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1, 1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 1, now_);
  Schedule(now_, &fx);
  int64_t backoff = kResourceRetryMs;
  for (uint32_t attempt = 1; attempt <= kMaxAttempts; attempt++) {
    ASSERT_EQ(fx.assignments.size(), 1u) << attempt;
    auto [w, a] = fx.assignments[0];
    EXPECT_EQ(w, "w1");
    EXPECT_EQ(a.attempt(), attempt);
    fx = Effects();
    proto::TaskReport r = Failure(a, "cannot open /d/x: Too many open files");
    r.set_resource_exhausted(true);
    OnReport(w, r, now_, &fx);
    if (attempt == kMaxAttempts) break;
    EXPECT_TRUE(fx.assignments.empty()) << "retried at once, attempt " << attempt;
    s_.Tick(now_ + backoff - 1, &fx);
    EXPECT_TRUE(fx.assignments.empty()) << "retried before the backoff, attempt " << attempt;
    now_ += backoff;
    s_.Tick(now_, &fx);
    backoff = std::min(backoff * 2, kMaxResourceRetryMs);
  }
  EXPECT_TRUE(fx.assignments.empty());
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_NE(st->error().find("map task 0 failed 4 times; last error: cannot open /d/x: Too many open files"),
            std::string::npos)
      << st->error();
}

// With another worker free, the task runs there at once; with it busy, it waits for the backoff
// and then goes to the other worker rather than back to the starved one.
TEST_F(SchedulerTest, ResourceFailuresPreferAnotherWorker) {
  Effects fx = StartOnTwoWorkers(3);
  ASSERT_EQ(fx.assignments.size(), 2u);
  std::map<std::string, proto::AssignTask> on;
  for (auto& [w, a] : fx.assignments) on[w] = a;
  // w1 starves while w2 is busy: held back.
  fx = Effects();
  proto::TaskReport r = Failure(on["w1"], "Too many open files");
  r.set_resource_exhausted(true);
  OnReport("w1", r, now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);  // w1's free slot takes the next idle map, not the failed one
  EXPECT_NE(fx.assignments[0].second.index(), on["w1"].index());
  on["w1"] = fx.assignments[0].second;
  // w2 finishes: its slot does not take the held task before the backoff.
  fx = Effects();
  OnReport("w2", Success(on["w2"]), now_ + 10, &fx);
  EXPECT_TRUE(fx.assignments.empty());
  // After it, the task goes to w2, not to w1 (busy anyway) -- and w1 failing again with w2 free
  // sends the next one to w2 at once.
  fx = Effects();
  s_.Tick(now_ + kResourceRetryMs, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);
  EXPECT_EQ(fx.assignments[0].first, "w2");
  auto retried = fx.assignments[0].second;
  EXPECT_EQ(retried.attempt(), 2u);
  fx = Effects();
  OnReport("w2", Success(retried), now_ + kResourceRetryMs, &fx);
  proto::TaskReport again = Failure(on["w1"], "Cannot allocate memory");
  again.set_resource_exhausted(true);
  fx = Effects();
  OnReport("w1", again, now_ + kResourceRetryMs + 1, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);
  EXPECT_EQ(fx.assignments[0].first, "w2");
  EXPECT_EQ(fx.assignments[0].second.index(), on["w1"].index());
}

// Any failed attempt runs again on another worker with a free slot, at once (Hadoop's rule: a
// failed attempt is retried on another node first); the worker it failed on is the last choice.
TEST_F(SchedulerTest, AFailedAttemptRunsAgainOnAnotherFreeWorker) {
  Effects fx = StartOnTwoWorkers(1);
  ASSERT_EQ(fx.assignments.size(), 1u);
  std::string on = fx.assignments[0].first;
  proto::AssignTask a = fx.assignments[0].second;
  for (uint32_t attempt = 2; attempt <= 3; attempt++) {
    fx = Effects();
    OnReport(on, Failure(a, "cannot write spill: I/O error"), now_, &fx);
    ASSERT_EQ(fx.assignments.size(), 1u) << attempt;
    EXPECT_NE(fx.assignments[0].first, on) << "attempt " << attempt << " went back to the worker it failed on";
    EXPECT_EQ(fx.assignments[0].second.attempt(), attempt);
    on = fx.assignments[0].first;
    a = fx.assignments[0].second;
  }
  // Alone, a worker still gets the retry of what failed on it (no backoff: not out of a resource).
  s_.RemoveWorker(on == "w1" ? "w2" : "w1", "gone", now_, &fx);
  fx = Effects();
  OnReport(on, Failure(a, "mapper exited with status 1"), now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);
  EXPECT_EQ(fx.assignments[0].first, on);
  EXPECT_EQ(fx.assignments[0].second.attempt(), 4u);
}

TEST_F(SchedulerTest, SweepFindsOnlyWorkersSilentPastTheTimeoutOldestFirst) {
  Effects fx;
  EXPECT_EQ(s_.OldestHeartbeatMs(), 0);
  EXPECT_TRUE(s_.SilentWorkers(now_ + 100000, 1000).empty());
  s_.AddWorker("a", "127.0.0.1:1", 1, now_);
  s_.AddWorker("b", "127.0.0.1:2", 1, now_ + 10);
  s_.AddWorker("c", "127.0.0.1:3", 1, now_ + 20);
  EXPECT_EQ(s_.OldestHeartbeatMs(), now_);
  // Silent means older than the timeout: "a" at exactly the timeout is still alive.
  EXPECT_TRUE(s_.SilentWorkers(now_ + 1000, 1000).empty());
  EXPECT_EQ(s_.SilentWorkers(now_ + 1011, 1000), (std::vector<std::string>{"a", "b"}));
  // A heartbeat makes a worker the newest; an unknown worker's heartbeat is ignored.
  s_.Heartbeat("a", now_ + 900);
  s_.Heartbeat("ghost", now_ + 900);
  EXPECT_EQ(s_.OldestHeartbeatMs(), now_ + 10);
  EXPECT_EQ(s_.SilentWorkers(now_ + 1500, 1000), (std::vector<std::string>{"b", "c"}));
  // A removed worker is no longer swept; a re-registration counts as a heartbeat.
  s_.RemoveWorker("b", "test", now_ + 1500, &fx);
  s_.AddWorker("c", "127.0.0.1:3", 1, now_ + 1500);
  EXPECT_TRUE(s_.SilentWorkers(now_ + 1500, 1000).empty());
  EXPECT_EQ(s_.OldestHeartbeatMs(), now_ + 900);
  EXPECT_EQ(s_.SilentWorkers(now_ + 3000, 1000), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(s_.WorkerCount(), 2u);
}

TEST_F(SchedulerTest, DeadWorkersWorkIsRescheduledAndLateReportsIgnored) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 3, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  auto first = fx.assignments;
  Effects f2;
  OnReport("w1", Success(first[0].second), now_, &f2);  // map 0 done on w1
  s_.AddWorker("w2", "127.0.0.1:2", 3, now_ + 5000);
  EXPECT_EQ(s_.SilentWorkers(now_ + 5000, 2000), std::vector<std::string>{"w1"});
  Effects f3;
  s_.RemoveWorker("w1", "test", now_ + 5000, &f3);
  // The two maps that were running on w1 go to w2 at once; map 0's output waits for w1 to come
  // back for the recovery grace, then runs again on w2 too.
  ASSERT_EQ(f3.assignments.size(), 2u);
  s_.Tick(now_ + 5000 + SchedulerOptions().recovery_grace_ms - 1, &f3);
  ASSERT_EQ(f3.assignments.size(), 2u);
  s_.Tick(now_ + 5000 + SchedulerOptions().recovery_grace_ms, &f3);
  ASSERT_EQ(f3.assignments.size(), 3u);
  for (auto& [w, a] : f3.assignments) {
    EXPECT_EQ(w, "w2");
    EXPECT_EQ(a.attempt(), a.index() == 0 ? 2u : 2u);
  }
  // The dead worker's late report is ignored.
  Effects f4;
  OnReport("w1", Success(first[1].second), now_, &f4);
  EXPECT_EQ(s_.JobStatus(1)->maps_done(), 0u);
}

TEST_F(SchedulerTest, TwoUnfinishedJobsCannotWriteTheSameOutput) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  EXPECT_EQ(s_.Submit(2, Spec(), now_, &fx).status().code(), Status::Code::kAlreadyExists);
  ASSERT_TRUE(s_.Kill(1, now_, &fx).ok());
  EXPECT_TRUE(s_.Submit(3, Spec(), now_, &fx).ok());
}

// A starting job's output is prepared before any of its tasks runs; an output it could not prepare
// fails the job and is left as it was, as is the output of a job that ended before its setup.
TEST_F(SchedulerTest, AJobRunsNoTaskBeforeItsOutputIsSetUp) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.Schedule(now_, &fx);
  ASSERT_EQ(fx.setups.size(), 1u);
  EXPECT_EQ(fx.setups[0].output, "/out");
  EXPECT_TRUE(fx.assignments.empty());
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_RUNNING);
  SetupRequest setup = fx.setups[0];
  Effects f2;
  s_.OnOutputSetUp(setup, Status::OK(), now_, &f2);
  EXPECT_EQ(f2.assignments.size(), 2u);

  // Job 2's output appeared while it was queued: its setup fails, and nothing is cleaned up.
  AdmittedJob second = Spec();
  second.spec.set_output("/out2");
  ASSERT_TRUE(s_.Submit(2, std::move(second), now_, &fx).ok());
  ASSERT_TRUE(s_.Kill(1, now_, &fx).ok());
  Effects f3;
  s_.Schedule(now_, &f3);
  ASSERT_EQ(f3.setups.size(), 1u);
  Effects f4;
  s_.OnOutputSetUp(f3.setups[0], Status::AlreadyExists("output /out2 already exists"), now_, &f4);
  EXPECT_EQ(s_.JobStatus(2)->state(), proto::JOB_FAILED);
  EXPECT_EQ(s_.JobStatus(2)->error(), "output /out2 already exists");
  EXPECT_TRUE(f4.assignments.empty());
  EXPECT_TRUE(f4.cleanups.empty());

  // Job 3 is killed in the step it started in: its setup is not carried out, nor any cleanup.
  AdmittedJob third = Spec();
  third.spec.set_output("/out3");
  ASSERT_TRUE(s_.Submit(3, std::move(third), now_, &fx).ok());
  Effects f5;
  s_.Schedule(now_, &f5);
  ASSERT_EQ(f5.setups.size(), 1u);
  ASSERT_TRUE(s_.Kill(3, now_, &f5).ok());
  EXPECT_TRUE(f5.setups.empty());
  EXPECT_TRUE(f5.cleanups.empty());
}

// Jobs share the slots: a job submitted behind a large one gets the next slot that frees up, and
// then they alternate, instead of the second waiting for every task of the first.
TEST_F(SchedulerTest, ASecondJobGetsTheNextFreeSlotAndThenAnEqualShare) {
  Effects fx = StartOnTwoWorkers(/*maps=*/8);
  ASSERT_EQ(fx.assignments.size(), 2u);
  AdmittedJob small = Spec(1, 2);
  small.spec.set_output("/small");
  Effects f2;
  ASSERT_TRUE(s_.Submit(2, std::move(small), now_, &f2).ok());
  Schedule(now_, &f2);
  EXPECT_TRUE(f2.assignments.empty());  // no free slot: nothing is taken from job 1
  EXPECT_EQ(s_.JobStatus(2)->state(), proto::JOB_QUEUED);

  // Each slot that frees up goes to the job holding fewer: job 2, then job 1, then job 2.
  std::vector<uint64_t> got;
  std::deque<std::pair<std::string, proto::AssignTask>> running(fx.assignments.begin(), fx.assignments.end());
  for (int i = 0; i < 3; i++) {
    auto [w, a] = running.front();
    running.pop_front();
    Effects f3;
    OnReport(w, Success(a), now_ + 10 * (i + 1), &f3);
    ASSERT_EQ(f3.assignments.size(), 1u) << i;
    got.push_back(f3.assignments[0].second.job_id());
    running.push_back(f3.assignments[0]);
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{2, 1, 2}));
  auto one = s_.JobStatus(1), two = s_.JobStatus(2);
  EXPECT_EQ(one->running_slots(), 1u);
  EXPECT_EQ(two->running_slots(), 1u);
  EXPECT_DOUBLE_EQ(one->fair_share(), 1.0);
  EXPECT_DOUBLE_EQ(two->fair_share(), 1.0);
}

// Pools (master/pools.h): weights split the slots between pools, a job holds at most its
// max_slots, and a pool's job limit keeps the rest queued, in order, with their place shown.
TEST_F(SchedulerTest, PoolWeightsSplitTheSlotsAndMaxSlotsCapsAJob) {
  s_.SetPools(PoolsConfig{{{"etl", {2.0, 0, 0}}}, {}});
  Effects fx;
  AdmittedJob etl = Spec(1, 20), adhoc = Spec(1, 20), capped = Spec(1, 20);
  etl.spec.set_pool("etl");
  adhoc.spec.set_pool("adhoc");
  adhoc.spec.set_output("/adhoc");
  capped.spec.set_pool("capped");
  capped.spec.set_output("/capped");
  capped.spec.set_max_slots(1);
  ASSERT_TRUE(s_.Submit(1, std::move(etl), now_, &fx).ok());
  ASSERT_TRUE(s_.Submit(2, std::move(adhoc), now_, &fx).ok());
  ASSERT_TRUE(s_.Submit(3, std::move(capped), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 8, now_);
  for (int i = 0; i < 4 && s_.BusySlots() < 8; i++) Schedule(now_, &fx);  // each pass may start one job
  std::map<uint64_t, int> held;
  for (auto& [w, a] : fx.assignments) held[a.job_id()]++;
  // Pool capped takes one slot (its job's max); etl and adhoc split the other 7 about 2:1.
  EXPECT_EQ(held[3], 1);
  EXPECT_EQ(held[1] + held[2], 7);
  EXPECT_GE(held[1], 4);
  EXPECT_LE(held[2], 3);
  EXPECT_NEAR(s_.JobStatus(1)->fair_share() / s_.JobStatus(2)->fair_share(), 2.0, 0.01);
  EXPECT_DOUBLE_EQ(s_.JobStatus(3)->fair_share(), 1.0);
  auto pools = s_.Pools();
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[2].name, "etl");
  EXPECT_EQ(pools[2].running_slots, static_cast<uint32_t>(held[1]));
}

TEST_F(SchedulerTest, APoolsJobLimitQueuesTheRestInOrder) {
  s_.SetPools(PoolsConfig{{}, PoolConfig{1.0, 0, 1}});
  Effects fx = StartOnTwoWorkers(/*maps=*/1);
  for (uint64_t id = 2; id <= 3; id++) {
    AdmittedJob next = Spec(1, 1);
    next.spec.set_output("/out" + std::to_string(id));
    if (id == 3) next.spec.set_priority(proto::PRIORITY_HIGH);
    ASSERT_TRUE(s_.Submit(id, std::move(next), now_, &fx).ok());
  }
  Schedule(now_, &fx);
  // One slot is free, but the pool ("default") runs its one job: the others wait, high first.
  EXPECT_EQ(s_.JobStatus(3)->queue_position(), 1u);
  EXPECT_EQ(s_.JobStatus(2)->queue_position(), 2u);
  EXPECT_EQ(s_.JobStatus(2)->waiting(), "pool default runs its limit of 1 job: number 2 in its queue");
  EXPECT_EQ(s_.JobStatus(2)->fair_share(), 0);
  // Job 1 ends: job 3 starts next.
  std::deque<std::pair<std::string, proto::AssignTask>> running(fx.assignments.begin(), fx.assignments.end());
  for (int i = 0; i < 10 && s_.JobStatus(1)->state() != proto::JOB_SUCCEEDED && !running.empty(); i++) {
    auto [w, a] = running.front();
    running.pop_front();
    Effects f2;
    OnReport(w, Success(a), now_, &f2);
    running.insert(running.end(), f2.assignments.begin(), f2.assignments.end());
  }
  ASSERT_EQ(s_.JobStatus(1)->state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(s_.JobStatus(3)->state(), proto::JOB_RUNNING);
  EXPECT_EQ(s_.JobStatus(2)->state(), proto::JOB_QUEUED);
  EXPECT_EQ(s_.JobStatus(2)->queue_position(), 1u);
  // A reload that lifts the limit lets it start.
  s_.SetPools(PoolsConfig{});
  Effects f3;
  Schedule(now_, &f3);
  EXPECT_EQ(s_.JobStatus(2)->state(), proto::JOB_RUNNING);
}

// Runs every map of job 1 on the given workers (round robin as assigned) and returns the reduce
// assignments that follow.
std::vector<std::pair<std::string, proto::AssignTask>> FinishMaps(Scheduler& s, Effects fx,
                                                                   std::function<proto::TaskReport(const proto::AssignTask&)> ok,
                                                                   int64_t now) {
  std::vector<std::pair<std::string, proto::AssignTask>> reduces;
  std::deque<std::pair<std::string, proto::AssignTask>> todo(fx.assignments.begin(), fx.assignments.end());
  for (int i = 0; i < 100 && !todo.empty(); i++) {
    auto [w, a] = todo.front();
    todo.pop_front();
    if (a.kind() == proto::TASK_REDUCE) {
      reduces.emplace_back(w, a);
      continue;
    }
    Effects f;
    s.OnReport(w, ok(a), now, &f);
    todo.insert(todo.end(), f.assignments.begin(), f.assignments.end());
  }
  return reduces;
}

WorkerRegistration Reg(const std::string& id, uint64_t incarnation, const std::string& address, uint32_t slots,
                       std::vector<proto::HeldMapOutput> held) {
  WorkerRegistration r;
  r.id = id;
  r.incarnation = incarnation;
  r.address = address;
  r.slots = slots;
  r.held = std::move(held);
  return r;
}

proto::HeldMapOutput Held(uint64_t job, uint32_t map, uint32_t attempt) {
  proto::HeldMapOutput h;
  h.set_job_id(job);
  h.set_map_index(map);
  h.set_attempt(attempt);
  return h;
}

TEST_F(SchedulerTest, AMasterCutOffFromEveryoneReAdoptsTheirOutputsAndRerunsNothing) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(2), now_, &fx).ok());
  s_.AddWorker(Reg("w1", 1, "10.0.0.1:1", 2, {}), now_, &fx);
  s_.AddWorker(Reg("w2", 1, "10.0.0.2:1", 2, {}), now_, &fx);
  Schedule(now_, &fx);
  std::map<uint32_t, std::pair<std::string, uint32_t>> ran;  // map -> (worker, attempt)
  for (auto& [w, a] : fx.assignments) ran[a.index()] = {w, a.attempt()};
  auto reduces = FinishMaps(s_, fx, [this](const proto::AssignTask& a) { return Success(a); }, now_);
  ASSERT_EQ(reduces.size(), 2u);
  // The master hears nothing for longer than the timeout: both workers are declared dead.
  now_ += 20000;
  Effects f2;
  s_.RemoveWorker("w1", "no heartbeat", now_, &f2);
  s_.RemoveWorker("w2", "no heartbeat", now_, &f2);
  s_.Tick(now_ + 60000, &f2);  // no worker alive: the grace does not run
  // The link heals: the same processes come back, one after the other, with their outputs.
  now_ += 60000;
  auto held_by = [&](const std::string& w) {
    std::vector<proto::HeldMapOutput> held;
    for (auto& [m, wa] : ran) {
      if (wa.first == w) held.push_back(Held(1, m, wa.second));
    }
    return held;
  };
  Effects f3;
  s_.AddWorker(Reg("w1", 1, "10.0.0.1:1", 2, held_by("w1")), now_, &f3);
  s_.Tick(now_ + 500, &f3);
  s_.AddWorker(Reg("w2", 1, "10.0.0.2:1", 2, held_by("w2")), now_ + 1000, &f3);
  s_.Tick(now_ + 1500, &f3);
  EXPECT_EQ(s_.totals().maps_rerun, 0u);
  for (auto& [w, a] : f3.assignments) EXPECT_EQ(a.kind(), proto::TASK_REDUCE) << "map " << a.index() << " re-ran";
  EXPECT_EQ(s_.JobStatus(1)->maps_done(), s_.JobStatus(1)->maps_total());
}

TEST_F(SchedulerTest, OrphanedOutputsRunAgainWhenTheirWorkerDoesNotComeBack) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker("w1", "10.0.0.1:1", 3, now_);
  Schedule(now_, &fx);
  auto reduces = FinishMaps(s_, fx, [this](const proto::AssignTask& a) { return Success(a); }, now_);
  ASSERT_EQ(reduces.size(), 1u);
  Effects f2;
  s_.RemoveWorker("w1", "connection closed", now_, &f2);
  now_ += 100000;
  s_.AddWorker("w2", "10.0.0.2:1", 8, now_);  // a different worker: the grace starts now
  auto maps_in = [](const Effects& f) {
    return std::count_if(f.assignments.begin(), f.assignments.end(),
                         [](auto& wa) { return wa.second.kind() == proto::TASK_MAP; });
  };
  Effects f3;
  s_.Tick(now_ + SchedulerOptions().recovery_grace_ms - 1, &f3);
  EXPECT_EQ(maps_in(f3), 0);  // (the lost reduce attempt runs again on w2 meanwhile)
  s_.Tick(now_ + SchedulerOptions().recovery_grace_ms, &f3);
  EXPECT_EQ(maps_in(f3), 3);
  EXPECT_EQ(s_.totals().maps_rerun, 3u);
}

TEST_F(SchedulerTest, ARestartedWorkerLosesItsAttemptsButKeepsItsOutputs) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker(Reg("w1", 1, "10.0.0.1:1", 3, {}), now_, &fx);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  Effects f2;
  OnReport("w1", Success(fx.assignments[0].second), now_, &f2);  // map 0 done
  // A new process on the same data dir: maps 1 and 2 were running in the old one.
  Effects f3;
  s_.AddWorker(Reg("w1", 2, "10.0.0.1:2", 3, {Held(1, 0, 1)}), now_ + 100, &f3);
  Schedule(now_ + 100, &f3);
  ASSERT_EQ(f3.assignments.size(), 2u);
  for (auto& [w, a] : f3.assignments) {
    EXPECT_NE(a.index(), 0u);
    EXPECT_EQ(a.attempt(), 2u);
  }
  EXPECT_EQ(s_.JobStatus(1)->maps_done(), 1u);
  EXPECT_EQ(s_.totals().maps_rerun, 0u);
  // Reducers are told the output's new address.
  auto reduces = FinishMaps(s_, f3, [this](const proto::AssignTask& a) { return Success(a); }, now_ + 200);
  ASSERT_EQ(reduces.size(), 1u);
  EXPECT_EQ((*MapOutputsOf(reduces[0].second))[0].address(), "10.0.0.1:2");
}

TEST_F(SchedulerTest, AnAttemptThatRanThroughAPartitionReportsWhenTheLinkHeals) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker(Reg("w1", 1, "10.0.0.1:1", 3, {}), now_, &fx);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  auto lost = fx.assignments[1].second;
  Effects f2;
  s_.RemoveWorker("w1", "no heartbeat", now_ + 100, &f2);
  // The same process comes back (same incarnation) and reports the attempt it finished meanwhile.
  Effects f3;
  s_.AddWorker(Reg("w1", 1, "10.0.0.1:1", 3, {}), now_ + 200, &f3);
  OnReport("w1", Success(lost), now_ + 300, &f3);
  EXPECT_EQ(s_.JobStatus(1)->maps_done(), 1u);
}

TEST_F(SchedulerTest, ANodeOthersCannotFetchFromIsExcludedAndItsMapsRunElsewhere) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(3), now_, &fx).ok());
  s_.AddWorker("w1", "10.0.0.1:1", 1, now_);
  s_.AddWorker("w2", "10.0.0.2:1", 1, now_);
  s_.AddWorker("w3", "10.0.0.3:1", 1, now_);
  Schedule(now_, &fx);
  auto reduces = FinishMaps(s_, fx, [this](const proto::AssignTask& a) { return Success(a); }, now_);
  ASSERT_EQ(reduces.size(), 3u);
  std::set<std::string> holders;
  auto outputs = MapOutputsOf(reduces[0].second).value();
  for (auto& loc : outputs) holders.insert(loc.address());
  ASSERT_TRUE(holders.contains("10.0.0.1:1"));
  // w1 is cut off from the data network: the reducers on w2 and w3 cannot fetch from it.
  auto fetch_failed = [&](const proto::AssignTask& a) {
    proto::TaskReport r = Failure(a, "cannot fetch");
    auto outputs = MapOutputsOf(a).value();
    for (auto& loc : outputs) {
      if (loc.address() == "10.0.0.1:1") {
        r.add_failed_maps(loc.map_index());
        *r.add_failed_fetches() = loc;
      }
    }
    return r;
  };
  Effects f2;
  for (auto& [w, a] : reduces) {
    if (w != "w1") OnReport(w, fetch_failed(a), now_ + 100, &f2);
  }
  // w1 is excluded: its maps run on w2/w3 and nothing of the job goes to w1 any more.
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_RUNNING);
  EXPECT_LT(st->maps_done(), st->maps_total());
  for (int round = 0; round < 20 && !f2.assignments.empty(); round++) {
    Effects f3;
    for (auto& [w, a] : f2.assignments) {
      EXPECT_NE(w, "w1") << a.kind() << " " << a.index();
      OnReport(w, Success(a), now_ + 200 + round, &f3);
    }
    f2 = f3;
  }
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_SUCCEEDED) << s_.JobStatus(1)->error();
}

TEST_F(SchedulerTest, AReduceThatCanNeverFetchFailsTheJobInBoundedSteps) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1), now_, &fx).ok());
  s_.AddWorker("w1", "10.0.0.1:1", 4, now_);
  s_.AddWorker("w2", "10.0.0.2:1", 4, now_);
  Schedule(now_, &fx);
  auto pending = FinishMaps(s_, fx, [this](const proto::AssignTask& a) { return Success(a); }, now_);
  // Every fetch of every reduce attempt fails, whoever holds the map: nothing can progress.
  int steps = 0;
  std::deque<std::pair<std::string, proto::AssignTask>> todo(pending.begin(), pending.end());
  while (!todo.empty() && steps < 1000) {
    steps++;
    auto [w, a] = todo.front();
    todo.pop_front();
    Effects f;
    proto::TaskReport r;
    if (a.kind() == proto::TASK_MAP) {
      r = Success(a);
    } else {
      r = Failure(a, "connection refused");
      auto outputs = MapOutputsOf(a).value();
      for (auto& loc : outputs) {
        r.add_failed_maps(loc.map_index());
        *r.add_failed_fetches() = loc;
      }
    }
    OnReport(w, r, now_ + steps, &f);
    todo.insert(todo.end(), f.assignments.begin(), f.assignments.end());
  }
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_LT(steps, 200);
  EXPECT_FALSE(st->error().empty());
}

}  // namespace
}  // namespace mr

namespace mr {
namespace {

// Many workers and tasks: the indexes keep the same decisions a scan would (lowest idle task first,
// the worker with the most free slots), and the incremental counts match the tasks.
TEST_F(SchedulerTest, ManyWorkersAndTasksRunToCompletionWithIncrementalCounts) {
  constexpr uint32_t kWorkers = 300, kMaps = 2000, kReduces = 7;
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(kReduces, kMaps), now_, &fx).ok());
  for (uint32_t i = 0; i < kWorkers; i++) s_.AddWorker("w" + std::to_string(1000 + i), "127.0.0.1:1", 2, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 2 * kWorkers);
  for (uint32_t i = 0; i < fx.assignments.size(); i++) EXPECT_EQ(fx.assignments[i].second.index(), i);
  // Every worker got one task before any got its second (most free slots first).
  EXPECT_EQ(fx.assignments[0].first, "w1000");
  EXPECT_EQ(fx.assignments[1].first, "w1001");
  EXPECT_EQ(fx.assignments[kWorkers].first, "w1000");
  EXPECT_EQ(s_.BusySlots(), 2 * kWorkers);
  EXPECT_EQ(s_.TotalSlots(), 2 * kWorkers);
  auto counts = s_.TaskCounts(1);
  EXPECT_EQ(counts[0].state, "idle");
  EXPECT_EQ(counts[0].count, kMaps - 2 * kWorkers);
  EXPECT_EQ(counts[1].count, 2 * kWorkers);
  // A heartbeat changes nothing, so a pass after it assigns nothing.
  Effects hb;
  s_.Heartbeat("w1000", now_ + 1);
  Schedule(now_ + 1, &hb);
  EXPECT_TRUE(hb.assignments.empty());

  std::deque<std::pair<std::string, proto::AssignTask>> pending(fx.assignments.begin(), fx.assignments.end());
  uint32_t reports = 0, next_map = 2 * kWorkers;
  while (!pending.empty()) {
    auto [w, a] = pending.front();
    pending.pop_front();
    Effects f;
    OnReport(w, Success(a), now_ + 10, &f);
    reports++;
    for (auto& next : f.assignments) {
      // A freed slot takes the lowest idle map at once; reduces only after the last map.
      if (next.second.kind() == proto::TASK_MAP) {
        EXPECT_EQ(next.second.index(), next_map++);
      }
      pending.push_back(next);
    }
  }
  EXPECT_EQ(reports, kMaps + kReduces);
  auto st = s_.JobStatus(1);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(st->counters().at("map.input.records"), kMaps + kReduces);
  EXPECT_EQ(st->counters().at("attempts.launched"), kMaps + kReduces);
  EXPECT_EQ(s_.BusySlots(), 0u);
}

TEST_F(SchedulerTest, WorkerPagesCoverEveryWorkerOnce) {
  for (int i = 0; i < 25; i++) s_.AddWorker("w" + std::to_string(100 + i), "127.0.0.1:1", 1, now_);
  std::vector<std::string> seen;
  for (size_t offset = 0;; offset += 10) {
    auto page = s_.Workers(now_, offset, 10);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 10u);
    for (auto& w : page) seen.push_back(w.worker_id());
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
  EXPECT_EQ(s_.WorkerCount(), 25u);
}

// Job counters are summed as tasks finish and taken back when a finished map's output is lost.
TEST_F(SchedulerTest, JobCountersFollowLostAndRerunMaps) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1, 3), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 3, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  for (int i = 0; i < 2; i++) {
    Effects f;
    OnReport("w1", Success(fx.assignments[i].second), now_ + 10, &f);
  }
  EXPECT_EQ(s_.JobStatus(1)->counters().at("map.input.records"), 2);
  s_.AddWorker("w2", "127.0.0.1:2", 3, now_ + 20);
  Effects f2;
  s_.RemoveWorker("w1", "gone", now_ + 30, &f2, Scheduler::Loss::kDisconnected);
  EXPECT_EQ(s_.JobStatus(1)->counters().at("map.input.records"), 0);  // both outputs lost with w1
  ASSERT_EQ(f2.assignments.size(), 3u);                               // every map again, on w2
  for (auto& [w, a] : f2.assignments) {
    Effects f;
    OnReport(w, Success(a), now_ + 40, &f);
  }
  EXPECT_EQ(s_.JobStatus(1)->counters().at("map.input.records"), 3);
  EXPECT_EQ(s_.JobStatus(1)->counters().at("attempts.launched"), 7);  // 3 + 3 maps + the reduce
  auto counts = s_.TaskCounts(1);
  EXPECT_EQ(counts[2].count, 3u);  // maps done
  EXPECT_EQ(counts[4].count, 1u);  // the reduce running
}

// Backups go to the oldest stragglers only, and only once there is no idle task left.
TEST_F(SchedulerTest, BackupsStartForTheOldestStragglersOnly) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1, 6), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 6, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 6u);
  s_.AddWorker("w2", "127.0.0.1:2", 6, now_ + 1);
  // Maps 0-2 finish in 100 ms; 3 and 4 straggle; 5 started late (re-run after a failure).
  for (int i = 0; i < 3; i++) {
    Effects f;
    OnReport("w1", Success(fx.assignments[i].second), now_ + 100, &f);
  }
  Effects ff;
  OnReport("w1", Failure(fx.assignments[5].second, "boom"), now_ + 500, &ff);
  ASSERT_EQ(ff.assignments.size(), 1u);  // map 5 again, on w2 (most free slots)
  EXPECT_EQ(ff.assignments[0].first, "w2");
  Effects f2;
  Schedule(now_ + 900, &f2);  // under the 1 s minimum: nothing
  EXPECT_TRUE(f2.assignments.empty());
  Schedule(now_ + 1200, &f2);  // maps 3 and 4 are 1.2 s old; map 5's new attempt 0.7 s
  ASSERT_EQ(f2.assignments.size(), 2u);
  EXPECT_EQ(f2.assignments[0].second.index(), 3u);
  EXPECT_EQ(f2.assignments[1].second.index(), 4u);
  for (auto& [w, a] : f2.assignments) EXPECT_EQ(w, "w2");
  Effects f3;
  Schedule(now_ + 1600, &f3);  // 3 and 4 have theirs; map 5's attempt is 1.1 s old, on w2
  ASSERT_EQ(f3.assignments.size(), 1u);
  EXPECT_EQ(f3.assignments[0].second.index(), 5u);
  EXPECT_EQ(f3.assignments[0].first, "w1");
  Effects f4;
  Schedule(now_ + 60000, &f4);  // one backup per task
  EXPECT_TRUE(f4.assignments.empty());
  EXPECT_EQ(s_.JobStatus(1)->counters().at("attempts.backup"), 3);
}

// A pool kept below its due share past the timeout takes slots back: the youngest attempts of the
// pool above its share are cancelled on their workers, not charged, and run again later.
TEST_F(SchedulerTest, APoolKeptBelowItsShareTakesSlotsBackByPreemption) {
  Effects fx;
  AdmittedJob big = Spec(1, 20), small = Spec(1, 4);
  big.spec.set_pool("batch");
  small.spec.set_pool("adhoc");
  small.spec.set_output("/small");
  ASSERT_TRUE(s_.Submit(1, std::move(big), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 4, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 4u);  // the big job holds every slot
  Effects f1;
  ASSERT_TRUE(s_.Submit(2, std::move(small), now_ + 100, &f1).ok());
  Schedule(now_ + 100, &f1);
  EXPECT_TRUE(f1.assignments.empty());  // no slot free: the small job waits
  Effects f2;
  s_.Tick(now_ + 100, &f2);          // below half its fair share (2 of 4) from now on
  s_.Tick(now_ + 100 + 29000, &f2);  // ... but not yet for 30 s
  EXPECT_TRUE(f2.cancels.empty());
  Effects f3;
  s_.Tick(now_ + 100 + 30000, &f3);
  testing::Settle(s_, &fs_, now_ + 100 + 30000, &f3);
  // Two of the big job's attempts are cancelled on w1 and the small job gets their slots.
  ASSERT_EQ(f3.cancels.size(), 2u);
  for (auto& [w, a] : f3.cancels) {
    EXPECT_EQ(w, "w1");
    EXPECT_EQ(a.job, 1u);
  }
  std::map<uint64_t, int> assigned;
  for (auto& [w, a] : f3.assignments) assigned[a.job_id()]++;
  EXPECT_EQ(assigned[2], 2) << f3.assignments.size();
  auto big_status = s_.JobStatus(1);
  EXPECT_EQ(big_status->counters().at("attempts.preempted"), 2);
  EXPECT_EQ(big_status->counters().at("attempts.failed"), 0);  // not charged
  EXPECT_EQ(s_.totals().pool_preemptions.at("adhoc"), 2u);
  // Not again until another timeout has passed, however the shares stand.
  Effects f4;
  s_.Tick(now_ + 100 + 31000, &f4);
  EXPECT_TRUE(f4.cancels.empty());
  // The preempted maps are idle again, to run when slots free up; the big job keeps two slots.
  auto counts = s_.TaskCounts(1);
  EXPECT_EQ(counts[0].count, 18u);  // maps idle
  EXPECT_EQ(counts[1].count, 2u);   // maps running
}

// The attempt a backup beat is cancelled on its worker (its slot is free there too), and only it.
TEST_F(SchedulerTest, TheAttemptABackupBeatIsCancelledOnItsWorker) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(1, 2), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 2u);
  s_.AddWorker("w2", "127.0.0.1:2", 2, now_ + 1);
  Effects f1;
  OnReport("w1", Success(fx.assignments[0].second), now_ + 100, &f1);
  EXPECT_TRUE(f1.cancels.empty());  // a task's only attempt: nothing to cancel
  Effects f2;
  Schedule(now_ + 1500, &f2);  // map 1 straggles: a backup on w2
  ASSERT_EQ(f2.assignments.size(), 1u);
  ASSERT_EQ(f2.assignments[0].first, "w2");
  const proto::AssignTask backup = f2.assignments[0].second;
  Effects f3;
  OnReport("w2", Success(backup), now_ + 1600, &f3);
  ASSERT_EQ(f3.cancels.size(), 1u);
  EXPECT_EQ(f3.cancels[0].first, "w1");
  EXPECT_EQ(f3.cancels[0].second, (AttemptRef{1, proto::TASK_MAP, 1, fx.assignments[1].second.attempt()}));
  // Its late report (cancelled, so failed) changes nothing.
  Effects f4;
  OnReport("w1", Failure(fx.assignments[1].second, "attempt cancelled"), now_ + 1700, &f4);
  EXPECT_TRUE(f4.cancels.empty());
  auto counts = s_.TaskCounts(1);
  EXPECT_EQ(counts[2].count, 2u);  // both maps done
}

// A map-only job (--reducers 0): each map's attempt file is committed as part-m-NNNNN, exactly one
// attempt per map; a worker lost after its map committed costs nothing (the part is in OUT, not on
// the worker); there is no reduce phase, and _SUCCESS follows the last map.
TEST_F(SchedulerTest, AMapOnlyJobCommitsEachMapOnceAsItsPart) {
  AdmittedJob job = Spec(0, 3);
  job.spec.set_map_only(true);
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, job, now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.AddWorker("w2", "127.0.0.1:2", 1, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  for (auto& [w, a] : fx.assignments) {
    EXPECT_EQ(a.kind(), proto::TASK_MAP);
    EXPECT_EQ(a.reducers(), 0u);
    EXPECT_EQ(a.output_dir(), "/out");
  }
  auto maps = fx.assignments;
  Effects f1;
  OnReport(maps[0].first, Success(maps[0].second), now_ + 10, &f1);
  EXPECT_EQ(fs_.files().at("/out/part-m-00000"), "word\t0\n");
  // Its worker goes: the committed map does not run again.
  Effects f2;
  s_.RemoveWorker(maps[0].first, "killed", now_ + 20, &f2, Scheduler::Loss::kDisconnected);
  testing::Settle(s_, &fs_, now_ + 20, &f2);
  for (auto& [w, a] : f2.assignments) EXPECT_NE(a.index(), 0u) << "map 0 ran again";
  // The maps that were running there and elsewhere finish; a second report changes nothing.
  std::vector<std::pair<std::string, proto::AssignTask>> rest;
  for (auto& m : maps) {
    if (m.second.index() != 0 && m.first != maps[0].first) rest.push_back(m);
  }
  for (auto& m : f2.assignments) rest.push_back(m);
  for (size_t i = 0; i < rest.size() && i < 10; i++) {
    const auto [w, a] = rest[i];
    Effects f3;
    const proto::TaskReport r = Success(a);
    OnReport(w, r, now_ + 30, &f3);
    OnReport(w, r, now_ + 31, &f3);
    for (auto& [w2, a2] : f3.assignments) rest.push_back({w2, a2});
  }
  auto st = s_.JobStatus(1);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state(), proto::JOB_SUCCEEDED) << st->error();
  EXPECT_EQ(st->reduces_total(), 0u);
  EXPECT_EQ(fs_.ListUnder("/out"), (std::set<std::string>{"/out/_SUCCESS", "/out/part-m-00000", "/out/part-m-00001",
                                                           "/out/part-m-00002"}));
}

// After a master restart, a map-only job's map journaled as done counts only if its part is in
// place; the others run again, and write their parts.
TEST_F(SchedulerTest, AMapOnlyJobResumesFromTheMapsWhosePartsAreInPlace) {
  AdmittedJob job = Spec(0, 2);
  job.spec.set_map_only(true);
  proto::JobStatus status;
  status.set_job_id(1);
  status.set_state(proto::JOB_RUNNING);
  *status.mutable_spec() = job.spec;
  std::vector<proto::TaskRecord> tasks(2);
  for (uint32_t i = 0; i < 2; i++) {
    tasks[i].set_job_id(1);
    tasks[i].set_kind(proto::TASK_MAP);
    tasks[i].set_index(i);
    tasks[i].set_attempts(1);
    tasks[i].set_done(true);  // both journaled done; only map 0's part reached OUT
  }
  ASSERT_TRUE(fs_.CreateDirs("/out/_temporary").ok());
  ASSERT_TRUE(fs_.WriteFile("/out/part-m-00000", "a\n").ok());
  OutputCommitter committer(&fs_);
  ResumedOutput output = committer.Resume("/out", 2, PartKind::kMap);
  EXPECT_EQ(output.committed, (std::vector<bool>{true, false}));
  Effects fx;
  s_.Restore(status, tasks, job.plan, output, now_, &fx);
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 1u);
  EXPECT_EQ(fx.assignments[0].second.index(), 1u);
  EXPECT_EQ(fx.assignments[0].second.attempt(), 2u);  // attempt numbers are not reused
  Effects f2;
  OnReport("w1", Success(fx.assignments[0].second), now_ + 5, &f2);
  EXPECT_EQ(s_.JobStatus(1)->state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(fs_.ListUnder("/out"), (std::set<std::string>{"/out/_SUCCESS", "/out/part-m-00000", "/out/part-m-00001"}));
}

}  // namespace
}  // namespace mr
