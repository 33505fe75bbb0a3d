// Many hosts for real (DESIGN §5, §10): a master, three workers and a client, each on a network
// stack of its own (tests/multihost/net.h), started with the command lines deploy/ ships. Links
// are cut in the middle of a phase, flapped, partitioned away; the master is killed. Every job
// that succeeds must produce exactly the bytes of a fault-free run of the same job, and nothing
// else in its output directory. Every scenario is bounded in time: a cluster that cannot make
// progress fails its test, it never hangs it.
//
// Phases are widened with delay failpoints (map.start, reduce.start) so that a fault lands in the
// phase it names; cuts start when `mr status` shows that phase under way.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <filesystem>
#include <map>
#include <sstream>

#include "tests/multihost/cluster.h"

namespace mr::multihost {
namespace {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr int kReducers = 4;
constexpr const char* kSplit = "16k";  // ~40 map tasks over the corpus

const std::string& CorpusDir() {
  static TempDir dir;
  static const std::string path = [] {
    MakeCorpus(dir / "books");
    return dir / "books";
  }();
  return path;
}

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
    auto expected = FaultFreeOutput(CorpusDir(), kReducers, kSplit);
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    expected_ = *expected;
  }

  // Makes the hosts and starts the master and every worker from the deploy/ units.
  void StartCluster(const ClusterOptions& options) {
    auto c = Cluster::Create(options);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    Status st = cluster_->StartMaster();
    ASSERT_TRUE(st.ok()) << st.ToString();
    st = cluster_->StartWorkers();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Output() const { return cluster_->root() + "/out"; }

  uint64_t SubmitWordCount() {
    auto id = cluster_->Submit({"--job", "wordcount", "--input", CorpusDir(), "--output", Output(), "--reducers",
                                std::to_string(kReducers), "--split-size", kSplit});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  // The job succeeded with exactly the fault-free output.
  void ExpectExactOutput(const JobState& v) {
    ASSERT_EQ(v.state, "succeeded") << "job: " << v.Summary() << "\n" << cluster_->LogTails();
    EXPECT_TRUE(SameOutput(Output(), expected_, kReducers)) << cluster_->LogTails();
  }

  std::string Workers() {
    testing::CommandResult r = cluster_->Client({"workers"});
    return r.out + r.err;
  }

  std::string expected_;
  std::unique_ptr<Cluster> cluster_;
};

// Delays that stretch a phase over a few seconds on this small input.
const std::string kSlowMaps = "MR_FAILPOINTS=map.start=delay(150ms)";
const std::string kSlowReduces = "MR_FAILPOINTS=reduce.start=delay(1500ms)";

// (a) The README's "Running a real cluster" recipe, as written: a master on 0.0.0.0:7070 with a
// token file, workers on 0.0.0.0:0 told nothing about their address, `mr submit --wait` from a
// machine of its own.
TEST_F(MultiHostTest, ReadmeRecipeOnFiveHosts) {
  auto c = Cluster::Create({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  cluster_ = std::move(*c);
  Net& net = cluster_->net();
  const std::string mr = testing::MrBinary(), token = cluster_->token_file(), master = cluster_->MasterRpc();
  auto m = HostProcess::Start(net, "master", {mr, "master", "--token-file", token, "--listen", "0.0.0.0:7070",
                                              "--data-dir", cluster_->root() + "/master/data"},
                              cluster_->root() + "/master.log");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  HostProcess master_proc = std::move(*m);
  std::vector<HostProcess> workers;
  for (int i = 0; i < cluster_->workers(); i++) {
    std::string host = Cluster::WorkerHost(i);
    auto w = HostProcess::Start(net, host,
                                {mr, "worker", "--token-file", token, "--master", master, "--data-dir",
                                 cluster_->root() + "/" + host + "/data", "--listen", "0.0.0.0:0", "--slots", "4",
                                 "--threads", "2"},
                                cluster_->root() + "/" + host + ".log");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    workers.push_back(std::move(*w));
  }
  Status st = cluster_->WaitForWorkers(workers.size());
  ASSERT_TRUE(st.ok()) << st.ToString();

  const int reducers = 8;
  auto expected = FaultFreeOutput(CorpusDir(), reducers, "64m");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  auto start = Clock::now();
  testing::CommandResult r = cluster_->Client({"submit", "--job", "wordcount", "--input", CorpusDir(), "--output",
                                               Output(), "--reducers", std::to_string(reducers), "--wait"},
                                              seconds(60));
  auto took = std::chrono::duration_cast<Millis>(Clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << (r.exit_code == -1 ? "mr submit --wait did not finish within 60 s"
                                                   : "mr submit --wait failed")
                            << " (" << took << " ms)\n`mr workers` (shuffle addresses must be reachable from "
                            << "the other hosts):\n" << Workers() << "\n" << r.out << r.err << cluster_->LogTails();
  EXPECT_TRUE(SameOutput(Output(), *expected, reducers)) << cluster_->LogTails();
  // On a healthy network nothing fails: a success reached by re-running maps until a reducer
  // happens to share a host with them is not one.
  JobState v = cluster_->Job(1);
  ASSERT_TRUE(v.answered);
  nlohmann::json status = nlohmann::json::parse(v.json);
  auto counters = status.value("counters", nlohmann::json::object());
  EXPECT_EQ(counters.value("attempts.launched", -1) - counters.value("attempts.backup", 0),
            v.maps_total + v.reduces_total)
      << "tasks ran more than once on a healthy network; `mr workers`:\n" << Workers() << v.json;
  EXPECT_TRUE(status.value("failed_attempts", nlohmann::json::array()).empty())
      << "attempts failed on a healthy network; `mr workers`:\n" << Workers() << v.json << cluster_->LogTails();
}

// (b) Nothing but IPv6: the master on [::]:7070, workers on [::]:7072 advertising their ULA
// address on the data network.
TEST_F(MultiHostTest, Ipv6Only) {
  ClusterOptions o;
  o.ipv6_only = true;
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  EXPECT_NE(Workers().find("fd00:201:2::"), std::string::npos) << Workers();
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  JobState v = cluster_->WaitForJob(id, seconds(60));
  ExpectExactOutput(v);
}

// (c) One worker loses the master (its control link) for longer than --worker-timeout while the
// maps run; the data network stays up. Then the link comes back.
TEST_F(MultiHostTest, WorkerCutFromMasterInMapPhase) {
  ClusterOptions o;
  o.worker_env = {kSlowMaps};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  std::optional<Partition> cut;
  JobState v = cluster_->WaitForJob(id, seconds(90), [&](const JobState& now) {
    if (!cut && now.InMapPhase()) cut.emplace(cluster_->net(), "w1 | master", std::vector<Link>{{"w1", Network::kControl}}, Millis(3500));
  });
  ASSERT_TRUE(cut.has_value()) << "the map phase passed before the cut: " << v.Summary();
  ASSERT_TRUE(cut->status().ok()) << cut->status().ToString();
  cut->Heal();
  ExpectExactOutput(v);
}

TEST_F(MultiHostTest, WorkerCutFromMasterInReducePhase) {
  ClusterOptions o;
  o.slots = 1;  // 3 reduce slots for 4 reduces: every worker runs one when the cut comes
  o.worker_env = {kSlowReduces};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  std::optional<Partition> cut;
  JobState v = cluster_->WaitForJob(id, seconds(90), [&](const JobState& now) {
    if (!cut && now.InReducePhase()) cut.emplace(cluster_->net(), "w1 | master", std::vector<Link>{{"w1", Network::kControl}}, Millis(3500));
  });
  ASSERT_TRUE(cut.has_value()) << "the reduce phase passed before the cut: " << v.Summary();
  ASSERT_TRUE(cut->status().ok()) << cut->status().ToString();
  cut->Heal();
  ExpectExactOutput(v);
}

// (d) Flapping links through the whole job: w1's control link (down 1 s, up 1 s) and w2's data
// link (down 700 ms, up 500 ms).
TEST_F(MultiHostTest, FlappingLinks) {
  ClusterOptions o;
  o.worker_env = {"MR_FAILPOINTS=map.start=delay(100ms);reduce.start=delay(1s)"};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  JobState v;
  int flaps = 0;
  {
    Flapper control(cluster_->net(), {"w1", Network::kControl}, Millis(1000), Millis(1000));
    Flapper data(cluster_->net(), {"w2", Network::kData}, Millis(700), Millis(500));
    v = cluster_->WaitForJob(id, seconds(90));
    control.Stop();
    data.Stop();
    flaps = control.flaps() + data.flaps();
  }
  EXPECT_GE(flaps, 2) << "the links hardly flapped: the job was over too soon to test anything";
  if (!v.Ended()) v = cluster_->WaitForJob(id, seconds(30));  // healed now: it must finish
  ExpectExactOutput(v);
}

// (e) The master loses everyone (both its links) for twice --worker-timeout while reduces run,
// then comes back. The workers still hold every map output: none may run again.
TEST_F(MultiHostTest, MasterCutFromEveryoneInReducePhase) {
  ClusterOptions o;
  o.worker_env = {kSlowReduces};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  std::optional<Partition> cut;
  JobState v = cluster_->WaitForJob(id, seconds(90), [&](const JobState& now) {
    if (!cut && now.InReducePhase()) {
      cut.emplace(cluster_->net(), "master | everyone",
                  std::vector<Link>{{"master", Network::kControl}, {"master", Network::kData}}, Millis(4000));
    }
  });
  ASSERT_TRUE(cut.has_value()) << "the reduce phase passed before the cut: " << v.Summary();
  ASSERT_TRUE(cut->status().ok()) << cut->status().ToString();
  cut->Heal();
  ExpectExactOutput(v);
  auto metrics = cluster_->Metrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_EQ(Cluster::Metric(*metrics, "mr_maps_rerun_total"), 0)
      << "the master re-ran maps whose outputs the returning workers still held\n" << *metrics;
}

// (f) One worker loses the data network for good in the map phase; it still heartbeats over the
// control network. Its map outputs cannot be fetched and it cannot fetch: the job must route
// around it and finish within a minute.
TEST_F(MultiHostTest, WorkerCutFromDataNetworkForGood) {
  ClusterOptions o;
  o.worker_env = {kSlowMaps};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  auto start = Clock::now();
  uint64_t id = SubmitWordCount();
  ASSERT_NE(id, 0u);
  std::optional<Partition> cut;  // healed only when the test ends
  JobState v = cluster_->WaitForJob(id, seconds(60), [&](const JobState& now) {
    if (!cut && now.InMapPhase()) cut.emplace(cluster_->net(), "w3 | data", std::vector<Link>{{"w3", Network::kData}});
  });
  auto took = std::chrono::duration_cast<Millis>(Clock::now() - start).count();
  ASSERT_TRUE(cut.has_value()) << "the map phase passed before the cut: " << v.Summary();
  ASSERT_TRUE(v.Ended()) << "not finished within a minute (" << took << " ms): " << v.Summary() << "\n"
                         << cluster_->LogTails();
  ExpectExactOutput(v);
}

// (g) The master is killed (SIGKILL) in the map phase and started again in its namespace on the
// same data dir; the client that submitted with --wait sees the job through.
TEST_F(MultiHostTest, MasterKilledAndRestarted) {
  ClusterOptions o;
  o.worker_env = {kSlowMaps};
  ASSERT_NO_FATAL_FAILURE(StartCluster(o));
  auto submit = HostProcess::Start(cluster_->net(), "client",
                                   {testing::MrBinary(), "submit", "--job", "wordcount", "--input", CorpusDir(),
                                    "--output", Output(), "--reducers", std::to_string(kReducers), "--split-size",
                                    kSplit, "--wait", "--master", cluster_->MasterRpc(), "--token-file",
                                    cluster_->token_file()},
                                   cluster_->root() + "/submit.log");
  ASSERT_TRUE(submit.ok()) << submit.status().ToString();
  const uint64_t id = 1;  // the first job of a fresh master
  bool restarted = false;
  Status restart;
  JobState v = cluster_->WaitForJob(id, seconds(90), [&](const JobState& now) {
    if (!restarted && now.InMapPhase()) {
      restarted = true;
      cluster_->KillMaster();
      restart = cluster_->StartMaster();
    }
  });
  ASSERT_TRUE(restarted) << "the map phase passed before the kill: " << v.Summary();
  ASSERT_TRUE(restart.ok()) << restart.ToString();
  ExpectExactOutput(v);
  auto done = submit->Wait(seconds(30));
  ASSERT_TRUE(done.ok()) << "mr submit --wait did not return within 30 s of the job's end";
  EXPECT_TRUE(done->exited && done->code == 0) << "mr submit --wait: " << done->ToString() << "\n"
                                               << testing::ReadFile(cluster_->root() + "/submit.log");
}

// (h) A streaming job whose script only the submitting host has (--files): submitted before any
// worker runs, and the script deleted from the client at once. The workers fetch it from the master
// over their own connections and run it in each task's working directory, under its name.
TEST_F(MultiHostTest, FilesShippedWithTheJobReachWorkersThatNeverHadThem) {
  ClusterOptions options;
  options.allow_user_code = true;
  auto c = Cluster::Create(options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  cluster_ = std::move(*c);
  ASSERT_TRUE(cluster_->StartMaster().ok()) << cluster_->LogTails();
  const std::string mine = cluster_->root() + "/client-only";
  std::filesystem::create_directories(mine);
  testing::WriteFile(mine + "/split.sh", "#!/bin/sh\nexec awk '{ for (i = 1; i <= NF; i++) print $i \"\\t1\" }'\n");
  std::filesystem::permissions(mine + "/split.sh", std::filesystem::perms(0755));
  auto id = cluster_->Submit({"--input", CorpusDir(), "--output", Output(), "--reducers", "2", "--split-size", kSplit,
                              "--mapper", "./split.sh", "--reducer",
                              R"(awk -F'\t' '{ n[$1] += $2 } END { for (k in n) print k "\t" n[k] }')", "--files",
                              mine + "/split.sh"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  std::filesystem::remove_all(mine);
  ASSERT_TRUE(cluster_->StartWorkers().ok()) << cluster_->LogTails();
  JobState v = cluster_->WaitForJob(*id, seconds(120));
  ASSERT_EQ(v.state, "succeeded") << v.Summary() << "\n" << cluster_->LogTails();
  // The same pipeline on this host, for the expected counts (over the files a job reads, with
  // their lines' CR LF ends read as LF, as a job reads them).
  testing::CommandResult want = testing::RunCommand(
      {"/bin/sh", "-c", "cat " + CorpusDir() + "/part*.txt | tr -d '\\r' | awk '{ for (i = 1; i <= NF; i++) print $i \"\\t1\" }' | " +
                            R"(awk -F'\t' '{ n[$1] += $2 } END { for (k in n) print k "\t" n[k] }')"});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  const std::string got = testing::SortLines(testing::ReadJobOutput(Output(), 2));
  EXPECT_TRUE(got == testing::SortLines(want.out))
      << got.size() << " bytes of output, " << want.out.size() << " expected\n" << cluster_->LogTails();
}

}  // namespace
}  // namespace mr::multihost
