// Fault tests (DESIGN §5): real clusters on loopback with a short worker timeout. Each test injects
// a fault — SIGKILL, SIGSTOP, a crash at a failpoint, a hung straggler, a task that always fails,
// a master killed mid-job — and checks that a job which succeeds has output byte-identical to a
// fault-free run, with nothing else in its output directory.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <fmt/format.h>

#include "common/process.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

constexpr int kReducers = 3;
const std::vector<std::string> kMasterFlags = {"--worker-timeout", "1500ms"};
const std::vector<std::string> kWorkerFlags = {"--slots", "2", "--heartbeat", "100ms"};

// The input and the fault-free output, made once for the whole suite.
class FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new TempDir();
    input_ = GutenbergDir();
    if (input_.empty()) {
      input_ = *shared_ / "in";
      fs::create_directories(input_);
      CommandResult r = RunCommand({"/usr/bin/env", "python3", SourceDir() + "/scripts/sample_text.py", "3"});
      WriteFile(input_ + "/sample.txt", r.out);
    }
    CommandResult run = RunMr({"run", "--job", "wordcount", "--input", input_, "--output", *shared_ / "expected",
                               "--reducers", std::to_string(kReducers), "--split-size", "128k", "--workers", "2"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    expected_ = ReadJobOutput(*shared_ / "expected", kReducers);
    ASSERT_FALSE(expected_.empty());
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void StartCluster(int workers, const std::vector<std::string>& worker_env = {},
                    const std::vector<std::string>& master_env = {}) {
    ASSERT_TRUE(cluster_.StartMaster(kMasterFlags, master_env).ok());
    for (int i = 0; i < workers; i++) ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, worker_env).ok());
    ASSERT_TRUE(cluster_.WaitForWorkers(workers).ok());
  }

  uint64_t Submit(const std::string& split_size = "128k") {
    CommandResult r = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input",
                             input_, "--output", tmp_ / "out", "--reducers", std::to_string(kReducers),
                             "--split-size", split_size, "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? std::stoull(r.out) : 0;
  }

  void ExpectExactOutput(const JobState& js) {
    ASSERT_EQ(js.state, "succeeded") << js.json;
    EXPECT_EQ(ReadJobOutput(tmp_ / "out", kReducers), expected_);
    // Counters come from one successful attempt per task: never doubled by re-execution.
    EXPECT_EQ(js.Counter("reduce.output.records"), static_cast<int64_t>(std::count(expected_.begin(), expected_.end(), '\n')));
  }

  static TempDir* shared_;
  static std::string input_;
  static std::string expected_;
  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

TempDir* FaultTest::shared_ = nullptr;
std::string FaultTest::input_;
std::string FaultTest::expected_;

const std::vector<std::string> kSlowMaps = {"MR_FAILPOINTS=map.after_read=delay(150ms)"};
const std::vector<std::string> kSlowReduces = {"MR_FAILPOINTS=reduce.after_fetch=delay(1500ms)"};

TEST_F(FaultTest, FaultFreeRunRunsEveryTaskOnce) {
  StartCluster(3);
  uint64_t id = Submit();
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120));
  ExpectExactOutput(js);
  EXPECT_EQ(js.Counter("attempts.launched"), js.maps_total + js.reduces_total);
  EXPECT_EQ(js.Counter("attempts.failed"), 0);
}

TEST_F(FaultTest, WorkerKilledDuringMapPhase) {
  StartCluster(3, kSlowMaps);
  uint64_t id = Submit();
  bool killed = false;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (!killed && s.maps_done >= 3) {
      cluster_.SignalWorker(0, SIGKILL);
      killed = true;
    }
  });
  EXPECT_TRUE(killed);
  ExpectExactOutput(js);
  EXPECT_GT(js.Counter("attempts.launched"), js.maps_total + js.reduces_total);
}

TEST_F(FaultTest, WorkerKilledDuringReducePhaseLosesItsMaps) {
  StartCluster(3, kSlowReduces);
  uint64_t id = Submit();
  bool killed = false;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (!killed && s.maps_total > 0 && s.maps_done == s.maps_total) {
      cluster_.SignalWorker(0, SIGKILL);
      killed = true;
    }
  });
  EXPECT_TRUE(killed);
  ExpectExactOutput(js);
  // The dead worker's finished maps ran again.
  EXPECT_NE(ReadFile(tmp_ / "master.log").find("output was lost with worker"), std::string::npos);
}

TEST_F(FaultTest, WorkerFrozenLongerThanTheTimeout) {
  StartCluster(3, kSlowMaps);
  uint64_t id = Submit();
  bool stopped = false, resumed = false;
  auto stopped_at = std::chrono::steady_clock::now();
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (!stopped && s.maps_done >= 2) {
      cluster_.SignalWorker(0, SIGSTOP);
      stopped = true;
      stopped_at = std::chrono::steady_clock::now();
    } else if (stopped && !resumed && std::chrono::steady_clock::now() - stopped_at > std::chrono::seconds(3)) {
      cluster_.SignalWorker(0, SIGCONT);
      resumed = true;
    }
  });
  ExpectExactOutput(js);
  EXPECT_NE(ReadFile(tmp_ / "master.log").find("no heartbeat"), std::string::npos);
  if (!resumed) cluster_.SignalWorker(0, SIGCONT);
  // The frozen worker comes back as a new worker.
  EXPECT_TRUE(cluster_.WaitForWorkers(3).ok());
}

// A worker crashes once at a failpoint; it is restarted as it dies, like a supervisor would.
class FailpointCrashTest : public FaultTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(FailpointCrashTest, WorkerCrashesAtFailpoint) {
  std::vector<std::string> env = {fmt::format("MR_FAILPOINTS={}=1*crash", GetParam())};
  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, env).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, env).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(2).ok());
  uint64_t id = Submit();
  int crashes = 0;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120),
                                    [&](const JobState&) { crashes += cluster_.ReapWorkers(/*restart=*/true); });
  ExpectExactOutput(js);
  EXPECT_GE(crashes, 1) << "the failpoint " << GetParam() << " never fired";
}

INSTANTIATE_TEST_SUITE_P(Points, FailpointCrashTest,
                         ::testing::Values("map.start", "map.after_read", "map.before_spill", "map.after_spill",
                                           "map.before_report", "shuffle.serve", "reduce.start",
                                           "reduce.after_fetch", "reduce.before_commit"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

// The master crashes once at a failpoint and is restarted on the same data dir.
class MasterCrashTest : public FaultTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(MasterCrashTest, MasterCrashesAtFailpointAndResumes) {
  StartCluster(2, {}, {fmt::format("MR_FAILPOINTS={}=1*crash", GetParam())});
  // The crash may come while the submit itself is answered (the job is journaled first): the client
  // then sees the connection drop, and the restarted master runs job 1 all the same.
  RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input", input_, "--output",
         tmp_ / "out", "--reducers", std::to_string(kReducers), "--split-size", "128k"});
  uint64_t id = 1;
  int restarts = 0;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState&) {
    if (!cluster_.MasterAlive()) {
      ASSERT_TRUE(cluster_.RestartMaster().ok());
      restarts++;
    }
  });
  ExpectExactOutput(js);
  EXPECT_EQ(restarts, 1);
}

INSTANTIATE_TEST_SUITE_P(Points, MasterCrashTest,
                         ::testing::Values("master.after_assign", "master.after_journal", "master.after_commit"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST_F(FaultTest, MasterKilledMidMapAndMidReduceWhileAClientWaits) {
  std::vector<std::string> env = {"MR_FAILPOINTS=map.after_read=delay(100ms);reduce.after_fetch=delay(1s)"};
  StartCluster(2, env);
  // A client waits for the job through both restarts.
  auto client = Spawn({MrBinary(), "submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input",
                       input_, "--output", tmp_ / "out", "--reducers", std::to_string(kReducers), "--split-size",
                       "128k", "--wait"},
                      tmp_ / "client.log");
  ASSERT_TRUE(client.ok());
  bool mid_map = false, mid_reduce = false;
  JobState js;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    js = cluster_.Job(1);
    if (js.state == "succeeded" || js.state == "failed") break;
    if (!mid_map && js.maps_done >= 2) {
      cluster_.KillMaster();
      ASSERT_TRUE(cluster_.RestartMaster().ok());
      mid_map = true;
    } else if (mid_map && !mid_reduce && js.maps_total > 0 && js.maps_done == js.maps_total) {
      cluster_.KillMaster();
      ASSERT_TRUE(cluster_.RestartMaster().ok());
      mid_reduce = true;
    }
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_TRUE(mid_map);
  EXPECT_TRUE(mid_reduce);
  ExpectExactOutput(js);
  auto exit = WaitFor(*client, std::chrono::seconds(60));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->code, 0) << ReadFile(tmp_ / "client.log");
}

TEST_F(FaultTest, MitStyleChaosWithCrashesAndDelays) {
  // About a third of map and reduce calls crash their worker and a third are delayed; workers are
  // restarted as they die, each with a new seed so the crashes differ. Unlike MIT's lab, where map
  // output survives on a shared filesystem, a crash here also loses the worker's finished maps (they
  // live on its disk, as in the paper), so the job is cut into few, large splits to make a full set
  // of maps likely between crashes.
  int seed = 1;
  auto env = [&] {
    return std::vector<std::string>{
        "MR_FAILPOINTS=map.start=crash@0.33;reduce.start=crash@0.33;map.after_read=delay(200ms)@0.5;"
        "reduce.after_fetch=delay(200ms)@0.5",
        fmt::format("MR_FAILPOINTS_SEED={}", seed++)};
  };
  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  for (int i = 0; i < 3; i++) ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, env()).ok());
  uint64_t id = Submit("1m");
  int crashes = 0;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(240), [&](const JobState&) {
    for (int n = cluster_.ReapWorkers(false); n > 0; n--) {
      crashes++;
      ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, env()).ok());
    }
  });
  ExpectExactOutput(js);
  EXPECT_GT(crashes, 0);
}

TEST_F(FaultTest, StragglerIsBeatenByABackupAttempt) {
  // One worker's first map hangs for a long time; a backup attempt elsewhere must win.
  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, {"MR_FAILPOINTS=map.after_read=1*delay(60s)"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(2).ok());
  auto start = std::chrono::steady_clock::now();
  uint64_t id = Submit();
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(50));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(50));
  ExpectExactOutput(js);
  EXPECT_GE(js.Counter("attempts.backup"), 1);
}

TEST_F(FaultTest, TaskThatAlwaysFailsFailsTheJobCleanly) {
  StartCluster(3, {"MR_FAILPOINTS=reduce.start=error"});
  CommandResult r = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input", input_,
                           "--output", tmp_ / "out", "--reducers", "1", "--wait"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("reduce task 0 failed 4 times; last error: failpoint reduce.start injected an error"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(r.out.find("failed 4 times"), std::string::npos) << r.out;
  JobState js = cluster_.Job(1);
  EXPECT_EQ(js.state, "failed");
  EXPECT_NE(js.error.find("failed 4 times"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_ / "out/_SUCCESS"));
  EXPECT_FALSE(fs::exists(tmp_ / "out/_temporary"));
}

// A worker that runs out of file descriptors at the start of its maps (EMFILE, injected) reports
// each failure as resource exhaustion; the master runs those maps again on the other worker when
// it has a free slot (else after a short backoff), and the job's output is exact. Each failure is
// still charged.
TEST_F(FaultTest, AWorkerOutOfDescriptorsHasItsMapsRetriedOnAnother) {
  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, {"MR_FAILPOINTS=map.start=2*exhausted"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(2).ok());
  uint64_t id = Submit();
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120));
  ExpectExactOutput(js);
  EXPECT_EQ(js.Counter("attempts.failed"), 2);
  std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_EQ(CountOf(log, "ran out of a resource; retrying"), 2u) << log;
  EXPECT_NE(log.find("failpoint map.start: Too many open files"), std::string::npos) << log;
}

TEST_F(FaultTest, ASecondWorkerOnTheSameDataDirIsRefused) {
  StartCluster(1);
  CommandResult r = RunMr({"worker", "--master", cluster_.master_address(), "--data-dir", cluster_.WorkerDataDir(0),
                           "--listen", "127.0.0.1:0"},
                          Millis(20000));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("is in use by another mr process"), std::string::npos) << r.err;
  // The first one still works.
  uint64_t id = Submit();
  ExpectExactOutput(cluster_.WaitForJob(id, std::chrono::seconds(120)));
}

TEST_F(FaultTest, AWorkerRestartedOnItsDataDirBringsItsMapOutputsBack) {
  // One worker runs every map; re-runs elsewhere are slow, so the restarted worker is back with
  // its outputs before they finish, and they are re-adopted.
  StartCluster(1, kSlowReduces);
  uint64_t id = Submit();
  bool restarted = false;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (restarted || s.maps_total == 0 || s.maps_done < s.maps_total) return;
    for (int i = 0; i < 2; i++) {
      ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, {"MR_FAILPOINTS=map.start=delay(8s)"}).ok());
    }
    ASSERT_TRUE(cluster_.WaitForWorkers(3).ok());
    cluster_.SignalWorker(0, SIGKILL);
    ASSERT_TRUE(cluster_.RestartWorker(0).ok());
    restarted = true;
  });
  EXPECT_TRUE(restarted);
  ExpectExactOutput(js);
  EXPECT_NE(ReadFile(tmp_ / "master.log").find("re-adopted the output"), std::string::npos);
}

// A chunk of map output damaged on its way (a bit flipped after it left the store, as bad memory
// or a bad NIC would) fails the reducer's block check: the map runs again at once and the output
// is exact, with each codec, for map outputs merged as they arrive and for those first copied to
// run files (a merge factor below the number of maps).
class CorruptShuffleTest : public FaultTest,
                           public ::testing::WithParamInterface<std::pair<std::string, std::string>> {};

TEST_P(CorruptShuffleTest, AFlippedBitInTransitReRunsTheMap) {
  const auto& [codec, merge_factor] = GetParam();
  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  std::vector<std::string> flags = kWorkerFlags;
  flags.insert(flags.end(), {"--merge-factor", merge_factor});
  for (int i = 0; i < 3; i++) ASSERT_TRUE(cluster_.StartWorker(flags, {"MR_FAILPOINTS=shuffle.corrupt=1*error"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(3).ok());
  CommandResult r = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input", input_,
                           "--output", tmp_ / "out", "--reducers", std::to_string(kReducers), "--split-size", "128k",
                           "--intermediate-codec", codec, "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JobState js = cluster_.WaitForJob(std::stoull(r.out), std::chrono::seconds(120));
  ExpectExactOutput(js);
  EXPECT_GT(js.Counter("attempts.launched"), js.maps_total + js.reduces_total);  // the maps that ran again
  std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_NE(log.find("fails its checksum"), std::string::npos) << log;
  EXPECT_NE(log.find("its output failed its checksum"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(EachCodec, CorruptShuffleTest,
                         ::testing::Values(std::pair<std::string, std::string>{"lz4", "0"},
                                           std::pair<std::string, std::string>{"zstd", "4"},
                                           std::pair<std::string, std::string>{"none", "0"},
                                           std::pair<std::string, std::string>{"lz4", "4"}),
                         [](const auto& info) { return info.param.first + "_factor" + info.param.second; });

// A bit flipped in a map output on a worker's disk: the worker ran every map, died as its first
// reduce began, and had a byte of each stored spill file changed before it came back on the same
// data dir. Its outputs are re-adopted, the reducers' checks find the damage, the maps run again,
// and the output is the fault-free one (without the checks, the flipped bytes reach the output).
TEST_F(FaultTest, AFlippedBitInAStoredMapOutputReRunsTheMap) {
  const std::vector<std::string> job = {"--job", "grep", "--arg", "pattern=.", "--input", input_,
                                        "--reducers", std::to_string(kReducers), "--split-size", "4m"};
  std::vector<std::string> run = {"run", "--output", tmp_ / "expected", "--workers", "2", "--show", "0"};
  run.insert(run.end(), job.begin(), job.end());
  CommandResult expected = RunMr(run);
  ASSERT_EQ(expected.exit_code, 0) << expected.err;

  ASSERT_TRUE(cluster_.StartMaster(kMasterFlags).ok());
  ASSERT_TRUE(cluster_.StartWorker(kWorkerFlags, {"MR_FAILPOINTS=reduce.start=crash"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  std::vector<std::string> submit = {"submit", "--master", cluster_.master_address(), "--output", tmp_ / "out",
                                     "--quiet"};
  submit.insert(submit.end(), job.begin(), job.end());
  CommandResult r = RunMr(submit);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int flipped = 0;
  bool restarted = false;
  JobState js = cluster_.WaitForJob(std::stoull(r.out), std::chrono::seconds(120), [&](const JobState&) {
    if (restarted || cluster_.ReapWorkers(false) == 0) return;
    for (const auto& e : fs::recursive_directory_iterator(cluster_.WorkerDataDir(0))) {
      if (e.path().extension() != ".sst") continue;
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      const auto middle = static_cast<std::streamoff>(fs::file_size(e.path()) / 2);
      f.seekg(middle);
      const char c = static_cast<char>(f.get());
      f.seekp(middle);
      f.put(static_cast<char>(c ^ 0x04));
      flipped++;
    }
    ASSERT_TRUE(cluster_.RestartWorker(0).ok());
    restarted = true;
  });
  ASSERT_TRUE(restarted);
  EXPECT_GE(flipped, 1);
  ASSERT_EQ(js.state, "succeeded") << js.json;
  // Megabytes each: compared whole (a gtest string diff of them would not fit in memory).
  const std::string got = ReadJobOutput(tmp_ / "out", kReducers), want = ReadJobOutput(tmp_ / "expected", kReducers);
  const auto differ = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  EXPECT_TRUE(got == want) << "outputs of " << got.size() << " and " << want.size() << " bytes differ from byte "
                           << (differ.first - got.begin());
  std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_NE(log.find("re-adopted the output"), std::string::npos) << log;
  EXPECT_NE(log.find("its output failed its checksum"), std::string::npos) << log;
}

// A map-only job (--reducers 0) under a worker killed mid-map and a master killed and restarted
// mid-job: every part-m file is there exactly once, byte-identical to a fault-free run's, and
// nothing else (no part-r, no _temporary).
TEST_F(FaultTest, AMapOnlyJobSurvivesAWorkerKillAndAMasterRestart) {
  const std::vector<std::string> job = {"--job", "grep", "--arg", "pattern=(?i)whale|the end", "--input", input_,
                                        "--reducers", "0", "--split-size", "128k"};
  std::vector<std::string> run = {"run", "--output", tmp_ / "expected", "--workers", "2", "--show", "0"};
  run.insert(run.end(), job.begin(), job.end());
  CommandResult expected = RunMr(run);
  ASSERT_EQ(expected.exit_code, 0) << expected.err;

  StartCluster(3, kSlowMaps);
  std::vector<std::string> submit = {"submit", "--master", cluster_.master_address(), "--output", tmp_ / "out",
                                     "--quiet"};
  submit.insert(submit.end(), job.begin(), job.end());
  CommandResult r = RunMr(submit);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint64_t id = std::stoull(r.out);
  bool killed = false, restarted = false;
  JobState js = cluster_.WaitForJob(id, std::chrono::seconds(120), [&](const JobState& s) {
    if (!killed && s.maps_done >= 2) {
      cluster_.SignalWorker(0, SIGKILL);
      killed = true;
    } else if (killed && !restarted && s.maps_done >= s.maps_total / 2 + 1) {
      cluster_.KillMaster();
      ASSERT_TRUE(cluster_.RestartMaster().ok());
      restarted = true;
    }
  });
  EXPECT_TRUE(killed);
  EXPECT_TRUE(restarted);
  ASSERT_EQ(js.state, "succeeded") << js.json;
  EXPECT_EQ(js.reduces_total, 0);
  std::set<std::string> want, got;
  for (const auto& e : fs::directory_iterator(tmp_ / "expected")) want.insert(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(tmp_ / "out")) got.insert(e.path().filename().string());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(got.contains("part-m-00000"));
  EXPECT_EQ(got.size(), static_cast<size_t>(js.maps_total) + 1);  // the parts and _SUCCESS
  for (const std::string& name : want) {
    EXPECT_EQ(ReadFile(tmp_ / ("out/" + name)), ReadFile(tmp_ / ("expected/" + name))) << name;
  }
}

// The n largest counts of a word count's lines, as topn writes them: largest first, ties by key.
std::string TopN(const std::string& counts, size_t n) {
  std::vector<std::pair<int64_t, std::string>> rows;
  std::istringstream in(counts);
  for (std::string line; std::getline(in, line);) {
    size_t tab = line.find('\t');
    rows.emplace_back(-std::stoll(line.substr(tab + 1)), line.substr(0, tab));
  }
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (size_t i = 0; i < rows.size() && i < n; i++) out += fmt::format("{}\t{}\n", rows[i].second, -rows[i].first);
  return out;
}

// A pipeline the master runs (mr submit --then): the master is SIGKILLed and restarted while the
// first step's maps run, and again as soon as that step has succeeded (before, while or after the
// next step is submitted). The chain goes on each time, `mr wait` on its first job follows it to
// the end, the output is exact, and the step's output kept aside for the next step is gone.
TEST_F(FaultTest, APipelineSurvivesMasterRestartsDuringAndBetweenItsSteps) {
  StartCluster(2, kSlowMaps);
  CommandResult r = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input", input_,
                           "--output", tmp_ / "out", "--reducers", std::to_string(kReducers), "--split-size", "128k",
                           "--then", "topn n=5", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint64_t first = std::stoull(r.out);
  bool during = false, between = false;
  JobState js = cluster_.WaitForJob(first, std::chrono::seconds(120), [&](const JobState& s) {
    if (!during && s.maps_done >= 2) {
      cluster_.KillMaster();
      ASSERT_TRUE(cluster_.RestartMaster().ok());
      during = true;
    }
  });
  ASSERT_EQ(js.state, "succeeded") << js.json;
  cluster_.KillMaster();
  ASSERT_TRUE(cluster_.RestartMaster().ok());
  between = true;
  CommandResult wait = RunMr({"wait", std::to_string(first), "--master", cluster_.master_address()},
                             std::chrono::seconds(120));
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
  EXPECT_TRUE(during && between);
  EXPECT_EQ(ReadFile(tmp_ / "out/part-r-00000"), TopN(expected_, 5));
  EXPECT_FALSE(fs::exists(fs::path(tmp_.path()) / ".out.step-1"));
  JobState second = cluster_.Job(first + 1);
  EXPECT_EQ(second.state, "succeeded") << second.json;
  EXPECT_TRUE(Has(second.json, fmt::format("\"previous_job\": {}", first))) << second.json;
}

// Killing a pipeline by its first job's id, while a later step runs, kills that step: nothing is
// run after it, and neither the output nor a step's output kept aside is left.
TEST_F(FaultTest, KillingAPipelineKillsTheStepThatRuns) {
  StartCluster(2, kSlowReduces);
  CommandResult r = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input", input_,
                           "--output", tmp_ / "out", "--split-size", "128k", "--then", "topn n=5", "--then",
                           "wordcount", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const uint64_t first = std::stoull(r.out);
  bool killed = false;
  JobState js = cluster_.WaitForJob(first + 1, std::chrono::seconds(120), [&](const JobState& s) {
    if (!killed && s.state == "running" && s.InReducePhase()) {
      CommandResult k = RunMr({"kill", std::to_string(first), "--master", cluster_.master_address()});
      EXPECT_EQ(k.exit_code, 0) << k.err;
      killed = true;
    }
  });
  EXPECT_TRUE(killed);
  EXPECT_EQ(js.state, "killed") << js.json;
  EXPECT_EQ(cluster_.Job(first).state, "succeeded");
  EXPECT_FALSE(cluster_.Job(first + 2).answered) << "a step ran after the kill";
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
  for (int step = 1; step <= 2; step++) {
    EXPECT_FALSE(fs::exists(fs::path(tmp_.path()) / fmt::format(".out.step-{}", step))) << step;
  }
  CommandResult wait = RunMr({"wait", std::to_string(first), "--master", cluster_.master_address()});
  EXPECT_EQ(wait.exit_code, 1) << wait.out << wait.err;
}

}  // namespace
}  // namespace mr::testing
