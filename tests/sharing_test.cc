// Jobs sharing a cluster (DESIGN §11): real master and worker processes on loopback. A small job
// behind a large one gets a slot as soon as one frees up, two equal jobs get equal slot time, and
// many jobs at once all finish with exact outputs.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Millis = std::chrono::milliseconds;

// `bytes` of plain text, one file: with --split-size 4k, about bytes/4096 map tasks.
std::string MakeText(const std::string& path, size_t bytes, int seed) {
  std::string text;
  for (int i = 0; text.size() < bytes; i++) text += fmt::format("word{} shared line {} of {}\n", i % 97, i % 13, seed);
  WriteFile(path, text);
  return path;
}

uint64_t Submit(const Cluster& c, const std::string& input, const std::string& output, int reducers = 1) {
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input", input,
                           "--output", output, "--split-size", "4k", "--reducers", std::to_string(reducers),
                           "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? std::stoull(r.out) : 0;
}

class SharingTest : public ::testing::Test {
 protected:
  TempDir tmp_;
};

// The start times of a job's attempts of one kind ("map", "reduce"), from /api/jobs/ID.
std::vector<int64_t> AttemptStarts(const std::string& http, uint64_t job, const std::string& kind) {
  std::vector<int64_t> starts;
  json j = GetJson(http, fmt::format("/api/jobs/{}", job));
  for (const json& t : j["tasks"]) {
    if (t["kind"] != kind) continue;
    for (const json& a : t["history"]) starts.push_back(a["start_ms"]);
  }
  return starts;
}

// Under first come, first served the small job would wait for every map of the large one to have
// started. Shared, it runs at the next free slot, and most of the large job's maps start after the
// small job has ended. Judged from the master's own record of when attempts started, not from how
// fast anything ran.
TEST_F(SharingTest, ASmallJobBehindALargeOneFinishesWhileTheLargeOneMaps) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  for (int i = 0; i < 2; i++) {
    ASSERT_TRUE(cluster.StartWorker({"--slots", "1"}, {"MR_FAILPOINTS=map.start=delay(60ms)"}).ok());
  }
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  std::string large_in = MakeText(tmp_ / "large.txt", 100 * 4096, 1);
  std::string small_in = MakeText(tmp_ / "small.txt", 2000, 2);
  uint64_t large = Submit(cluster, large_in, tmp_ / "large-out");
  ASSERT_EQ(large, 1u);
  JobState l;
  for (auto deadline = std::chrono::steady_clock::now() + Millis(30000);
       std::chrono::steady_clock::now() < deadline && l.maps_done < 2 && !l.Ended();) {
    l = cluster.Job(large);
    std::this_thread::sleep_for(Millis(10));
  }
  ASSERT_GE(l.maps_done, 2) << l.Summary();

  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                           small_in, "--output", tmp_ / "small-out", "--wait", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "small-out", 1)), ReferenceWordCount({small_in}));
  l = cluster.WaitForJob(large, Millis(120000));
  ASSERT_EQ(l.state, "succeeded") << l.Summary();

  std::vector<int64_t> small_reduce = AttemptStarts(cluster.http_address(), 2, "reduce");
  ASSERT_FALSE(small_reduce.empty());
  int64_t small_done = *std::max_element(small_reduce.begin(), small_reduce.end());
  std::vector<int64_t> large_maps = AttemptStarts(cluster.http_address(), large, "map");
  auto after = std::count_if(large_maps.begin(), large_maps.end(), [&](int64_t t) { return t > small_done; });
  EXPECT_GE(after, l.maps_total / 2) << "the small job waited for the large one: only " << after << " of "
                                      << l.maps_total << " large maps started after its reduce";
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "large-out", 1)), ReferenceWordCount({large_in}));
}

// The slot time each job's map attempts held between the later job's first map attempt and the
// earlier job's last one, from the task histories of /api/jobs/ID (maps only: a job's reduces
// start as its maps end, so the tail is one job alone).
std::vector<int64_t> SlotTimeWhileBothRan(const std::string& http, const std::vector<uint64_t>& jobs) {
  std::vector<std::vector<std::pair<int64_t, int64_t>>> spans(jobs.size());
  int64_t from = 0, to = INT64_MAX;
  for (size_t i = 0; i < jobs.size(); i++) {
    json j = GetJson(http, fmt::format("/api/jobs/{}", jobs[i]));
    int64_t first = INT64_MAX, last = 0;
    for (const json& t : j["tasks"]) {
      if (t["kind"] != "map") continue;
      for (const json& a : t["history"]) {
        int64_t start = a["start_ms"], end = a["end_ms"];
        spans[i].push_back({start, end});
        first = std::min(first, start);
        last = std::max(last, end);
      }
    }
    from = std::max(from, first);
    to = std::min(to, last);
  }
  std::vector<int64_t> held;
  for (auto& s : spans) {
    int64_t sum = 0;
    for (auto [start, end] : s) sum += std::max<int64_t>(0, std::min(end, to) - std::max(start, from));
    held.push_back(sum);
  }
  return held;
}

TEST_F(SharingTest, TwoEqualJobsGetEqualSlotTime) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  for (int i = 0; i < 2; i++) {
    ASSERT_TRUE(cluster.StartWorker({"--slots", "1"}, {"MR_FAILPOINTS=map.start=delay(50ms)"}).ok());
  }
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  std::string in = MakeText(tmp_ / "in.txt", 80 * 4096, 3);
  std::vector<uint64_t> jobs = {Submit(cluster, in, tmp_ / "a"), Submit(cluster, in, tmp_ / "b")};
  for (uint64_t id : jobs) ASSERT_EQ(cluster.WaitForJob(id, Millis(60000)).state, "succeeded");

  std::vector<int64_t> held = SlotTimeWhileBothRan(cluster.http_address(), jobs);
  ASSERT_EQ(held.size(), 2u);
  ASSERT_GT(held[0] + held[1], 0);
  int64_t most = std::max(held[0], held[1]);
  EXPECT_LE(std::abs(held[0] - held[1]), most / 10) << "slot ms while both ran: " << held[0] << " and " << held[1];
  std::string expected = ReferenceWordCount({in});
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "a", 1)), expected);
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "b", 1)), expected);
}

TEST_F(SharingTest, PoolWeightsGiveSlotTimeInTheirRatio) {
  WriteFile(tmp_ / "pools", "# name weight min_share max_running_jobs\nheavy 2 0 0\nlight 1 0 0\n");
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster({"--pools", tmp_ / "pools"}).ok());
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(cluster.StartWorker({"--slots", "1"}, {"MR_FAILPOINTS=map.start=delay(50ms)"}).ok());
  }
  ASSERT_TRUE(cluster.WaitForWorkers(3).ok());
  // Long enough that the first and last task of each job (when one holds more than its share) are
  // a small part of the time both run, even on a slow (sanitizer) build.
  std::string in = MakeText(tmp_ / "in.txt", 150 * 4096, 4);
  std::vector<uint64_t> jobs;
  for (const char* pool : {"heavy", "light"}) {
    CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input", in,
                             "--output", tmp_ / pool, "--split-size", "4k", "--pool", pool, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    jobs.push_back(std::stoull(r.out));
  }
  for (uint64_t id : jobs) ASSERT_EQ(cluster.WaitForJob(id, Millis(120000)).state, "succeeded");
  std::vector<int64_t> held = SlotTimeWhileBothRan(cluster.http_address(), jobs);
  ASSERT_GT(held[1], 0);
  double ratio = static_cast<double>(held[0]) / held[1];
  EXPECT_NEAR(ratio, 2.0, 0.2) << "slot ms while both ran: heavy " << held[0] << ", light " << held[1];
  JobState heavy = cluster.Job(jobs[0]);
  EXPECT_NE(heavy.json.find("\"pool\": \"heavy\""), std::string::npos) << heavy.json;
  std::string expected = ReferenceWordCount({in});
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "heavy", 1)), expected);
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "light", 1)), expected);
}

// A pool's limit on running jobs keeps the rest queued, with their place shown; a reloaded pools
// file (SIGHUP) lifts it.
TEST_F(SharingTest, APoolsJobLimitQueuesJobsUntilTheFileIsReloaded) {
  WriteFile(tmp_ / "pools", "* 1 0 1\n");
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster({"--pools", tmp_ / "pools"}).ok());
  ASSERT_TRUE(cluster.StartWorker({"--slots", "2"}, {"MR_FAILPOINTS=map.start=delay(100ms)"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  std::string in = MakeText(tmp_ / "in.txt", 40 * 4096, 5);
  uint64_t first = Submit(cluster, in, tmp_ / "first");
  uint64_t second = Submit(cluster, in, tmp_ / "second");
  ASSERT_EQ(second, first + 1);
  CommandResult st = RunMr({"status", std::to_string(second), "--master", cluster.master_address()});
  EXPECT_NE(st.out.find("waiting   pool admin runs its limit of 1 job: number 1 in its queue"), std::string::npos)
      << st.out;
  CommandResult jobs = RunMr({"jobs", "--master", cluster.master_address()});
  EXPECT_NE(jobs.out.find("queued #1"), std::string::npos) << jobs.out;

  WriteFile(tmp_ / "pools", "* 1 0 0\n");
  ::kill(cluster.master_pid(), SIGHUP);
  JobState s;
  for (auto deadline = std::chrono::steady_clock::now() + Millis(30000);
       std::chrono::steady_clock::now() < deadline && s.state != "running" && !s.Ended();) {
    s = cluster.Job(second);
    std::this_thread::sleep_for(Millis(10));
  }
  EXPECT_EQ(s.state, "running") << s.Summary();
  EXPECT_FALSE(cluster.Job(first).Ended()) << "the reload came too late to show anything";
  for (uint64_t id : {first, second}) ASSERT_EQ(cluster.WaitForJob(id, Millis(60000)).state, "succeeded");
}

TEST_F(SharingTest, TwentyJobsOnTwoWorkersAllFinishExactly) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  std::vector<std::string> inputs;
  std::vector<uint64_t> jobs;
  for (int j = 0; j < 20; j++) {
    inputs.push_back(MakeText(tmp_ / fmt::format("in{}.txt", j), 4096 * (1 + j % 5), j));
    jobs.push_back(Submit(cluster, inputs.back(), tmp_ / fmt::format("out{}", j), 2));
  }
  // All twenty wait for the workers, so they run at once.
  for (int i = 0; i < 2; i++) ASSERT_TRUE(cluster.StartWorker({"--slots", "2"}).ok());
  for (int j = 0; j < 20; j++) {
    JobState s = cluster.WaitForJob(jobs[j], Millis(60000));
    ASSERT_EQ(s.state, "succeeded") << j << ": " << s.Summary();
    EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / fmt::format("out{}", j), 2)), ReferenceWordCount({inputs[j]})) << j;
  }
}

// Long tasks hold every slot: the small job's pool, below half its fair share for --preempt-after,
// takes slots back. The large job's youngest attempts are cancelled (their commands killed), are
// not charged, and run again; both outputs are exact.
TEST_F(SharingTest, PreemptedAttemptsAreNotChargedAndTheOutputIsExact) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster({"--allow-user-code", "--preempt-after", "1s"}).ok());
  for (int i = 0; i < 2; i++) ASSERT_TRUE(cluster.StartWorker({"--slots", "2"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  std::string large_in = MakeText(tmp_ / "large.txt", 4 * 4096, 1);
  std::string small_in = MakeText(tmp_ / "small.txt", 2000, 2);
  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--mapper", "sleep 4; cat", "--input",
                           large_in, "--output", tmp_ / "large-out", "--split-size", "4k", "--pool", "batch",
                           "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  uint64_t large = std::stoull(r.out);
  // Every slot taken by the large job.
  int running = 0;
  for (auto deadline = std::chrono::steady_clock::now() + Millis(30000);
       std::chrono::steady_clock::now() < deadline && running < 4;) {
    JobState l = cluster.Job(large);
    if (l.answered) running = json::parse(l.json).value("running_slots", 0);
    std::this_thread::sleep_for(Millis(10));
  }
  ASSERT_EQ(running, 4);
  CommandResult small = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                               small_in, "--output", tmp_ / "small-out", "--pool", "adhoc", "--wait", "--quiet"});
  ASSERT_EQ(small.exit_code, 0) << small.out << small.err;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "small-out", 1)), ReferenceWordCount({small_in}));

  JobState done = cluster.WaitForJob(large, Millis(120000));
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  EXPECT_GE(done.Counter("attempts.preempted"), 1) << done.json;
  EXPECT_EQ(done.Counter("attempts.failed"), 0) << done.json;
  std::string lines = ReadFile(large_in), expected;
  for (size_t b = 0, e; (e = lines.find('\n', b)) != std::string::npos; b = e + 1) expected += lines.substr(b, e - b) + "\t\n";
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "large-out", 1)), SortLines(expected));
  std::string metrics = Http(cluster.http_address(), "/metrics").body;
  EXPECT_NE(metrics.find("mr_pool_preemptions_total{pool=\"adhoc\"}"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace mr::testing
