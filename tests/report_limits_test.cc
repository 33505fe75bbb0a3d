// A worker's report never exceeds a frame, end to end on real processes: a job whose maps name more
// counters than a frame can carry (70 MB of names, tests/counter_flood_plugin.cc) succeeds with the
// exact output, its reports cut to fit and saying so, and the worker is never dropped.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

using Millis = std::chrono::milliseconds;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) n++;
  return n;
}

TEST(ReportLimitsTest, CountersBeyondAFrameAreCutNotTheWorker) {
  TempDir tmp;
  Cluster cluster(tmp.path());
  ASSERT_TRUE(cluster.StartMaster({"--allow-user-code"}).ok());
  ASSERT_TRUE(cluster.StartWorker().ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  std::filesystem::create_directories(tmp / "in");
  WriteFile(tmp / "in/a.txt", "x y x\n");
  WriteFile(tmp / "in/b.txt", "y z\n");
  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "flood", "--job-lib",
                           COUNTER_FLOOD_PLUGIN, "--input", tmp / "in", "--output", tmp / "out", "--reducers", "1",
                           "--wait"},
                          Millis(180000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp / "out", 1), "x\t2\ny\t2\nz\t1\n");
  // The cut is counted (every name was too long; 70,000 per map attempt) and the rest is kept.
  EXPECT_NE(r.out.find("report.counters.dropped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flood.ok"), std::string::npos) << r.out;
  std::string worker_log = ReadFile(tmp / "worker-0.log");
  EXPECT_GE(Count(worker_log, "the report was too big to send"), 1u) << worker_log.substr(0, 4000);
  // One registration: the worker was never dropped, no attempt was lost or re-run.
  std::string master_log = ReadFile(tmp / "master.log");
  EXPECT_EQ(Count(master_log, "exceeds the limit"), 0u);
  EXPECT_EQ(Count(worker_log, "registered with the master"), 1u) << worker_log.substr(0, 4000);
  EXPECT_EQ(cluster.ReapWorkers(false), 0);
}

}  // namespace
}  // namespace mr::testing
