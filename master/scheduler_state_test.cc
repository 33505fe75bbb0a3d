// The Scheduler's state types on their own: a job's TaskTable (counts, the reduce gate, the idle,
// solo and orphan indexes), the WorkerTable (names, slots, liveness, attempts and outputs by
// worker) and a job's WorkerEvidence (the blacklist, fetch-failure cases for exclusion).
#include <gtest/gtest.h>

#include "master/task_table.h"
#include "master/worker_evidence.h"
#include "master/worker_table.h"

namespace mr {
namespace {

TEST(TaskTableTest, CountsFollowStatesAndReducesWaitForEveryMapAndNoOrphan) {
  NamePool names;
  TaskTable t(&names);
  EXPECT_FALSE(t.built());
  t.Build(3, 2);
  ASSERT_TRUE(t.built());
  EXPECT_EQ(t.Count(0, TaskState::kIdle), 3u);
  EXPECT_EQ(t.IdleCount(1), 2u);
  EXPECT_FALSE(t.MayStartReduces());
  // Maps come first, lowest index first.
  Task* m0 = t.NextIdle();
  ASSERT_NE(m0, nullptr);
  EXPECT_EQ(m0->kind, proto::TASK_MAP);
  EXPECT_EQ(m0->index, 0u);
  for (Task& m : t.maps()) {
    t.SetState(m, TaskState::kRunning);
    EXPECT_EQ(t.NextIdle() == nullptr, m.index == 2) << "reduces must wait";
  }
  EXPECT_EQ(t.Count(0, TaskState::kRunning), 3u);
  m0->counters = {{names.Intern("map.input.records"), 5}};
  for (Task& m : t.maps()) t.SetState(m, TaskState::kDone);
  EXPECT_EQ(t.Done(0), 3u);
  EXPECT_TRUE(t.AllDone(0));
  EXPECT_EQ(t.CounterSums().at("map.input.records"), 5);
  EXPECT_TRUE(t.MayStartReduces());
  EXPECT_EQ(t.CurrentPhase(), 1);
  // An orphaned output holds the reduces back until it is back (or runs again).
  t.SetOrphaned(t.maps()[1], 1000);
  EXPECT_FALSE(t.MayStartReduces());
  EXPECT_EQ(t.NextIdle(), nullptr);
  t.SetOrphaned(t.maps()[1], 0);
  Task* r = t.NextIdle();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, proto::TASK_REDUCE);
  // A map that loses its output takes its counters back and counts as not done.
  t.SetState(*m0, TaskState::kIdle);
  EXPECT_EQ(t.Done(0), 2u);
  EXPECT_EQ(t.CounterSums().at("map.input.records"), 0);
  EXPECT_FALSE(t.MayStartReduces());
  EXPECT_EQ(t.NextIdle(), m0);
}

TEST(TaskTableTest, SoloTracksTasksRunningOneAttemptAndHoldBackHidesAnIdleTask) {
  NamePool names;
  TaskTable t(&names);
  t.Build(2, 0);
  Task& a = t.maps()[0];
  a.running[1] = {"w1", 100};
  t.Reindex(a);
  ASSERT_EQ(t.Solo(0).size(), 1u);
  EXPECT_EQ(t.Solo(0).begin()->first, 100);
  a.running[2] = {"w2", 200};  // a backup: no longer alone
  t.Reindex(a);
  EXPECT_TRUE(t.Solo(0).empty());
  a.running.erase(1);
  t.Reindex(a);
  EXPECT_EQ(t.Solo(0).begin()->first, 200);
  Task& b = t.maps()[1];
  EXPECT_TRUE(t.Pickable(b));
  t.HoldBack(b);
  EXPECT_FALSE(t.Pickable(b));
  EXPECT_EQ(t.NextIdle(), &t.maps()[0]);  // still idle in its state, but not offered
  t.Release(b);
  EXPECT_TRUE(t.Pickable(b));
}

TEST(WorkerTableTest, NamesSlotsAndLiveness) {
  WorkerTable w;
  // Named by address, with a suffix for a second identity at the same address; a --name held by a
  // live worker of another identity is refused.
  EXPECT_EQ(*w.NameFor("id-a", "", "10.0.0.1:7072"), "10.0.0.1:7072");
  bool returning = true;
  w.Add({"10.0.0.1:7072", 1, "10.0.0.1:7072", 2}, "id-a", 1000, &returning);
  EXPECT_FALSE(returning);
  EXPECT_EQ(*w.NameFor("id-b", "", "10.0.0.1:7072"), "10.0.0.1:7072#2");
  EXPECT_EQ(*w.NameFor("id-c", "big", "10.0.0.3:7072"), "big");
  w.Add({"big", 1, "10.0.0.3:7072", 4}, "id-c", 1000, &returning);
  auto refused = w.NameFor("id-d", "big", "10.0.0.4:7072");
  EXPECT_EQ(refused.status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(*w.NameFor("id-a", "", "10.0.0.9:7072"), "10.0.0.1:7072");  // an identity keeps its name
  // A new master (a fresh table) names a worker by the name its data dir remembers, unless a live
  // worker of another identity has that name.
  WorkerTable fresh;
  EXPECT_EQ(*fresh.NameFor("id-a", "", "10.0.0.9:7072", "10.0.0.1:7072"), "10.0.0.1:7072");
  fresh.Add({"10.0.0.1:7072", 2, "10.0.0.9:7072", 2}, "id-a", 1000, &returning);
  EXPECT_EQ(*fresh.NameFor("id-e", "", "10.0.0.5:7072", "10.0.0.1:7072"), "10.0.0.5:7072");
  EXPECT_EQ(*fresh.NameFor("id-f", "asked", "10.0.0.6:7072", "10.0.0.1:7072"), "asked");  // --name wins
  EXPECT_EQ(w.total_slots(), 6u);
  // Most free slots first.
  WorkerTable::Worker* free = w.FindFree([](const WorkerTable::Worker&) { return true; });
  ASSERT_NE(free, nullptr);
  EXPECT_EQ(free->id, "big");
  w.SetRunning(*free, 4);
  EXPECT_EQ(w.busy_slots(), 4u);
  EXPECT_EQ(w.FindFree([](const WorkerTable::Worker&) { return true; })->id, "10.0.0.1:7072");
  EXPECT_TRUE(w.ReleaseSlot("big"));
  EXPECT_FALSE(w.ReleaseSlot("nobody"));
  // Liveness: the silent ones, oldest first.
  w.Heartbeat("big", 5000);
  EXPECT_EQ(w.Silent(5000, 3000), std::vector<std::string>{"10.0.0.1:7072"});
  EXPECT_EQ(w.OldestHeartbeatMs(), 1000);
  w.Remove("10.0.0.1:7072", "no heartbeat", 6000);
  EXPECT_FALSE(w.Contains("10.0.0.1:7072"));
  ASSERT_EQ(w.lost().size(), 1u);
  EXPECT_EQ(w.lost().back().reason, "no heartbeat");
  EXPECT_EQ(w.total_slots(), 4u);
  EXPECT_EQ(w.busy_slots(), 3u);
}

TEST(WorkerTableTest, AttemptsAndOutputsByWorkerCostWhatTheWorkerHolds) {
  WorkerTable w;
  bool returning;
  w.Add({"w1", 1, "h1:1", 2}, "w1", 0, &returning);
  w.Add({"w2", 1, "h2:1", 2}, "w2", 0, &returning);
  w.AttemptStarted("w1", {7, proto::TASK_MAP, 3, 1});
  w.AttemptStarted("w1", {7, proto::TASK_REDUCE, 0, 2});
  w.AttemptStarted("w2", {8, proto::TASK_MAP, 0, 1});
  EXPECT_EQ(w.RunningOn("w1").size(), 2u);
  w.AttemptStopped("w1", {7, proto::TASK_MAP, 3, 1});
  ASSERT_EQ(w.RunningOn("w1").size(), 1u);
  EXPECT_EQ(w.RunningOn("w1")[0].kind, proto::TASK_REDUCE);
  w.OutputHeld("w2", {8, 0});
  w.OutputHeld("w2", {8, 5});
  w.OutputDropped("w2", {8, 0});
  ASSERT_EQ(w.OutputsOn("w2").size(), 1u);
  EXPECT_EQ(w.OutputsOn("w2")[0].map, 5u);
  // A removed worker takes its indexes with it.
  w.Remove("w2", "gone", 1);
  EXPECT_TRUE(w.RunningOn("w2").empty());
  EXPECT_TRUE(w.OutputsOn("w2").empty());
}

TEST(WorkerEvidenceTest, BlacklistYieldsWhenEveryLiveWorkerIsOnIt) {
  WorkerEvidence e;
  auto live = [](const std::string& id) { return id == "a" || id == "b"; };
  for (uint32_t i = 0; i < kBlacklistFailures; i++) e.AttemptFailed("a");
  EXPECT_TRUE(e.Blacklisted("a", live, 2));
  EXPECT_FALSE(e.Blacklisted("b", live, 2));
  for (uint32_t i = 0; i < kBlacklistFailures; i++) e.AttemptFailed("b");
  EXPECT_FALSE(e.Blacklisted("a", live, 2));  // nobody would be left: the blacklist yields
}

TEST(WorkerEvidenceTest, FetchFailuresMakeACaseForExclusion) {
  WorkerEvidence e;
  auto live = [](const std::string&) { return true; };
  e.FetchFailed("holder", "r1");
  EXPECT_FALSE(e.CaseAgainstHolder("holder"));
  e.FetchFailed("holder", "holder");  // its own reducer says nothing about the network
  EXPECT_FALSE(e.CaseAgainstHolder("holder"));
  e.FetchFailed("holder", "r2");
  auto against = e.CaseAgainstHolder("holder");
  ASSERT_TRUE(against);
  EXPECT_NE(against->find("reducers on 2 workers (r1, r2)"), std::string::npos) << *against;
  e.Exclude("holder", *against);
  EXPECT_TRUE(e.Excluded("holder"));
  EXPECT_FALSE(e.CaseAgainstHolder("holder"));  // decided once
  // A reducer that cannot reach two live, not excluded workers is the one cut off.
  e.FetchFailed("x", "r9");
  EXPECT_FALSE(e.CaseAgainstReducer("r9", live));
  e.FetchFailed("y", "r9");
  auto cut_off = e.CaseAgainstReducer("r9", live);
  ASSERT_TRUE(cut_off);
  EXPECT_NE(cut_off->find("could not fetch from 2 live workers"), std::string::npos) << *cut_off;
}

}  // namespace
}  // namespace mr
