// A cluster on separate hosts, for the multihost tests: a Net with hosts "master", "w1".."wN" and
// "client"; the master and the workers started with the command lines of deploy/systemd (the
// units' ExecStart, expanded with this cluster's addresses); every client command (`mr submit`,
// `mr status`, ...) run on the client host. All hosts share the filesystem, which plays the part of
// the shared mount (NFS) that holds inputs and outputs; each host has its own data dirs under the
// cluster's temporary directory.
//
// Addresses: the master listens on the wildcard (0.0.0.0:7070, HTTP 0.0.0.0:7071, or [::] when
// IPv6-only) and is reached at its control-network address; workers listen on the wildcard (port
// 7072, as deploy/systemd/worker.env ships) and advertise their address on `shuffle_network`.
//
// Every process is reaped and every namespace removed when the cluster is destroyed, also when a
// test fails half way. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/status.h"
#include "tests/multihost/deploy_units.h"
#include "tests/multihost/net.h"
#include "tests/test_util.h"

namespace mr::multihost {

struct ClusterOptions {
  int workers = 3;
  bool ipv6_only = false;
  std::string worker_timeout = "2s";       // mr master --worker-timeout
  std::string heartbeat = "200ms";         // mr worker --heartbeat
  int slots = 2;                           // mr worker --slots
  Network shuffle_network = Network::kData;  // what workers --advertise
  std::vector<std::string> worker_env;     // e.g. MR_FAILPOINTS that widen a phase
  std::vector<std::string> master_env;
  bool allow_user_code = false;            // mr master/worker --allow-user-code (streaming jobs)
  std::vector<std::string> extra_hosts;    // more hosts in the Net (e.g. "relay"), with nothing started
  // Per worker index, a host that stands in (e.g. a relay on the path): the worker is given that
  // host's control address as the master's (MR_MASTER, port 7070), or advertises that host's
  // address on the shuffle network (MR_ADVERTISE).
  std::map<int, std::string> worker_master_via;
  std::map<int, std::string> worker_advertise_as;
};

// What `mr status JOB --json` says (tests/test_util.h).
using testing::JobState;

class Cluster {
 public:
  static constexpr int kMasterPort = 7070;
  static constexpr int kHttpPort = 7071;

  static Result<std::unique_ptr<Cluster>> Create(const ClusterOptions& options);
  ~Cluster();

  Net& net() { return *net_; }
  const std::string& root() const { return tmp_.path(); }
  std::string token_file() const { return tmp_ / "cred/token"; }
  std::string MasterRpc() const { return net_->Endpoint("master", Network::kControl, kMasterPort); }
  std::string MasterHttp() const { return net_->Endpoint("master", Network::kControl, kHttpPort); }
  static std::string WorkerHost(int i) { return "w" + std::to_string(i + 1); }
  int workers() const { return options_.workers; }

  // The units' ExecStart lines expanded for this cluster (argv[0] is the mr binary under test).
  Result<std::vector<std::string>> MasterCommand() const;
  Result<std::vector<std::string>> WorkerCommand(int i) const;

  // Starts the master; returns once its RPC port accepts connections from the client host and
  // its /readyz answers 200 there.
  Status StartMaster();
  void KillMaster();  // SIGKILL, reaped
  bool MasterRunning();
  Status StartWorker(int i);
  Status StartWorkers();  // all of them, then waits until the master lists them
  // Waits until `mr workers` lists at least n workers.
  Status WaitForWorkers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // `mr ARGS... --master RPC --token-file TOKEN` on the client host.
  testing::CommandResult Client(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // `mr submit ... --json` (without --wait); the job id.
  Result<uint64_t> Submit(const std::vector<std::string>& job_args);
  JobState Job(uint64_t id);
  // Polls until the job ends or the timeout passes (then the last view, not ended). `each_poll`
  // runs after every poll, with the view (answered == false while the master is unreachable).
  JobState WaitForJob(uint64_t id, std::chrono::milliseconds timeout,
                     const std::function<void(const JobState&)>& each_poll = nullptr);
  // The master's /metrics, fetched from the client host; a metric's value (-1 when absent).
  Result<std::string> Metrics();
  static double Metric(const std::string& metrics, const std::string& name);

  // The last lines of every process's log, for failure messages.
  std::string LogTails(size_t lines = 15) const;

 private:
  Cluster(ClusterOptions options) : options_(std::move(options)) {}
  Result<std::vector<std::string>> UnitCommand(const std::string& unit, const std::string& env_file, const Vars& overrides,
                                               const std::string& host) const;

  // Destroyed in reverse order: processes, then the Net, then the directory.
  ClusterOptions options_;
  TempDir tmp_;
  std::unique_ptr<Net> net_;
  HostProcess master_;
  std::vector<HostProcess> workers_;
};

// Text in several files under dir (a few hundred KB, deterministic); returns the file paths.
std::vector<std::string> MakeCorpus(const std::string& dir);

// A fault-free run of the same job (`mr run` on loopback inside a namespace of its own), memoized
// per (inputs, reducers, split size): the output directory to compare with.
Result<std::string> FaultFreeOutput(const std::string& input_dir, int reducers, const std::string& split_size);

// Checks that `dir` holds exactly the part files and _SUCCESS of `expected_dir`, byte for byte.
::testing::AssertionResult SameOutput(const std::string& dir, const std::string& expected_dir, int reducers);

}  // namespace mr::multihost
