// A host on the path (DESIGN §6, issue 20): relays placed between a worker and the master, and
// between the workers and one worker's shuffle server, record every byte and, once a connection is
// established, inject into it a well-formed AssignTask frame whose mapper would create a file, and
// random bytes. Required: no marker from the input's paths or data appears in what they recorded;
// the injected connections are closed with a TLS integrity error; nothing runs (no file appears);
// and the job still finishes with exactly the output of a fault-free run.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <random>

#include "common/frame.h"
#include "tests/multihost/cluster.h"

namespace mr::multihost {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kPathMarker = "markerdirqwz";
constexpr const char* kDataMarker = "markerwordqwz";

using testing::CountOf;

TEST(MultiHostSecurityTest, RelaysOnThePathReadNothingAndInjectNothing) {
  if (std::string why = WhyUnavailable(); !why.empty()) GTEST_SKIP() << why;
  TempDir data;
  const std::string corpus = data / kPathMarker;
  fs::create_directories(corpus);
  std::mt19937 rng(7);
  for (int f = 0; f < 3; f++) {
    std::string text;
    while (text.size() < 120 * 1024) text += fmt::format("{} w{} x{}\n", kDataMarker, rng() % 50, rng() % 7);
    testing::WriteFile(fmt::format("{}/part{}.txt", corpus, f), text);
  }
  auto expected = FaultFreeOutput(corpus, 4, "16k");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();

  ClusterOptions options;
  options.extra_hosts = {"relay"};
  options.worker_master_via = {{0, "relay"}};   // w1 reaches the master through the relay
  options.worker_advertise_as = {{1, "relay"}};  // w2's map outputs are fetched through the relay
  // Fetches that live long enough to be injected into.
  options.worker_env = {"MR_FAILPOINTS=shuffle.serve=delay(300ms)"};
  auto c = Cluster::Create(options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Cluster& cluster = **c;
  Net& net = cluster.net();

  const std::string pwned = fmt::format("/tmp/mr-relay-pwned-{}", ::getpid());
  proto::Envelope assign;
  auto* a = assign.mutable_assign_task();
  a->set_job_id(1);
  a->set_kind(proto::TASK_MAP);
  a->set_attempt(99);
  a->set_mapper("touch " + pwned + "; cat");
  a->mutable_split()->set_path(corpus + "/part0.txt");
  a->mutable_split()->set_length(10);
  std::string payload = EncodeFrame(assign);
  for (int i = 0; i < 64; i++) payload.push_back(static_cast<char>(rng()));
  testing::WriteFile(cluster.root() + "/payload", payload);

  ASSERT_TRUE(cluster.StartMaster().ok());
  std::vector<HostProcess> relays;
  auto relay = [&](const std::string& name, const std::string& listen, const std::string& target) {
    auto p = HostProcess::Start(net, "relay",
                                {MR_TEST_RELAY, "--listen", listen, "--target", target, "--record",
                                 cluster.root() + "/" + name + ".bytes", "--inject", "2", "--payload",
                                 cluster.root() + "/payload"},
                                cluster.root() + "/" + name + ".log");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    relays.push_back(std::move(*p));
  };
  relay("relay-master", net.Endpoint("relay", Network::kControl, Cluster::kMasterPort), cluster.MasterRpc());
  relay("relay-shuffle", net.Endpoint("relay", Network::kData, 7072), net.Endpoint("w2", Network::kData, 7072));
  for (const char* name : {"relay-master", "relay-shuffle"}) {
    auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (CountOf(testing::ReadFile(cluster.root() + "/" + name + ".log"), "relaying") == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(Millis(20));
    }
  }
  Status st = cluster.StartWorkers();
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto id = cluster.Submit({"--job", "wordcount", "--input", corpus, "--output", cluster.root() + "/out",
                            "--reducers", "4", "--split-size", "16k"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  JobState v = cluster.WaitForJob(*id, seconds(180));
  ASSERT_EQ(v.state, "succeeded") << v.Summary() << "\n" << cluster.LogTails();
  EXPECT_TRUE(SameOutput(cluster.root() + "/out", *expected, 4)) << cluster.LogTails();

  // Both relays carried traffic and injected into two connections each.
  for (const char* name : {"relay-master", "relay-shuffle"}) {
    std::string bytes = testing::ReadFile(cluster.root() + "/" + name + ".bytes");
    std::string log = testing::ReadFile(cluster.root() + "/" + name + ".log");
    EXPECT_GT(bytes.size(), 1000u) << name;
    EXPECT_EQ(CountOf(log, "injected"), 2u) << name << ": " << log;
    // Nothing readable went through: no path, no word of the input.
    EXPECT_EQ(CountOf(bytes, kPathMarker), 0u) << name;
    EXPECT_EQ(CountOf(bytes, kDataMarker), 0u) << name;
    EXPECT_EQ(CountOf(bytes, "wordcount"), 0u) << name;
  }
  // The connections that got the bytes closed on a failed integrity check; nothing ran.
  std::string w1 = testing::ReadFile(cluster.root() + "/w1.log");
  EXPECT_GE(CountOf(w1, "TLS integrity error"), 1u) << w1;
  std::string workers;
  for (int i = 0; i < cluster.workers(); i++) workers += testing::ReadFile(cluster.root() + "/" + Cluster::WorkerHost(i) + ".log");
  EXPECT_GE(CountOf(workers, "TLS integrity error"), 2u) << cluster.LogTails();
  EXPECT_EQ(CountOf(workers, "attempt 99"), 0u);
  EXPECT_EQ(CountOf(workers, "a99 assigned"), 0u);
  EXPECT_FALSE(fs::exists(pwned));
  std::error_code ec;
  fs::remove(pwned, ec);
}

}  // namespace
}  // namespace mr::multihost
