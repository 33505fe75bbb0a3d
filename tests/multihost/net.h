// Hosts for the multihost tests: each host is a network namespace with its own network stack, wired
// by veth pairs into two networks — control and data — whose bridges live in a "switch" namespace
// of their own. Nothing is added to the root namespace: every interface, address and route lives
// in namespaces the Net made, so test traffic can only reach addresses the Net assigned.
//
//   switch ns:  br-ctl <- HOST-ctl ... (veth) ... ctl  in HOST's ns   10.201.1.(10+i)/24, fd00:201:1::(10+i)/64
//               br-data <- HOST-data ... (veth) ... data in HOST's ns  10.201.2.(10+i)/24, fd00:201:2::(10+i)/64
//
// A cut (Cut/Heal, Partition, Flapper) sets the host's port on the switch down: the host keeps its
// interface and addresses, and its packets are silently dropped, like a pulled cable (connects time
// out rather than fail fast). Partitions are grudges in Jepsen's sense and are always healed.
//
// Cleanup: every namespace is named "mrmh-TAG-HOST" with a TAG unique to this Net, and the Net holds
// a lock file /run/mr-multihost/TAG.lock. The destructor kills whatever still runs in its namespaces
// and deletes them (veths and bridges go with them). If the test process dies instead (a crash,
// Ctrl-C, SIGKILL), a guardian child it started sees its pipe close and does the same. Creating a
// Net first sweeps namespaces of dead Nets (their lock is free), whatever killed them.
//
// Requires root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`; WhyUnavailable() says why not
// so that tests can skip. Not thread-safe, except Cut/Heal which may be called from any one thread
// at a time (Flapper does).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/process.h"
#include "common/status.h"
#include "tests/test_util.h"

namespace mr::multihost {

enum class Network { kControl, kData };
enum class Family { kIpv4, kIpv6 };

const char* NetworkName(Network n);  // "ctl", "data"

struct NetOptions {
  bool ipv4 = true;
  bool ipv6 = true;
};

// "" when namespaces can be made here; otherwise the reason (for GTEST_SKIP).
std::string WhyUnavailable();

// Removes the namespaces (and kills the processes in them) of every Net whose owner is gone.
// Returns how many namespaces it removed.
int SweepStale();

// The iproute2 binaries: `ip`, and `tc` beside it.
std::string IpBinary();
std::string TcBinary();

class Net {
 public:
  // Hosts are short names (at most 10 characters, [a-z0-9]).
  static Result<std::unique_ptr<Net>> Create(const std::vector<std::string>& hosts, NetOptions options = {});
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  const std::string& tag() const { return tag_; }
  std::string Namespace(const std::string& host) const;
  const std::vector<std::string>& hosts() const { return hosts_; }
  const NetOptions& options() const { return options_; }

  // The host's address on a network: "10.201.1.10" or "fd00:201:1::10".
  std::string Address(const std::string& host, Network network, Family family) const;
  // The same in the family this Net prefers (IPv4 when it has it), with a port: "10.201.1.10:7070"
  // or "[fd00:201:1::10]:7070".
  std::string Endpoint(const std::string& host, Network network, int port) const;
  std::string Address(const std::string& host, Network network) const;

  // Link state of the host's port on the switch.
  Status Cut(const std::string& host, Network network);
  Status Heal(const std::string& host, Network network);
  Status HealAll();
  // Limits the host's link on `network` to `rate` (tc's units: "200mbit") both ways, with a
  // token bucket (tc tbf) on each end of its veth: what the host sends and what it receives.
  Status LimitRate(const std::string& host, Network network, const std::string& rate);

  // `ip netns exec NS argv...`: starts a process inside the host's namespace. The caller reaps it
  // (HostProcess does).
  Result<pid_t> Spawn(const std::string& host, const std::vector<std::string>& argv, const std::string& log_path,
                      const std::vector<std::string>& env = {}) const;
  // The caller reaped pid: the Net no longer answers for it.
  void Forget(pid_t pid) const;
  // Runs argv inside the host's namespace and waits for it (at most `timeout`; killed after).
  testing::CommandResult Run(const std::string& host, const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // A TCP connect from inside the host's namespace (a thread that setns()s itself): whether
  // HOST:PORT accepts within `timeout`.
  bool CanConnect(const std::string& host, const std::string& endpoint,
                  std::chrono::milliseconds timeout = std::chrono::seconds(1)) const;
  // An HTTP/1.1 GET from inside the host's namespace (with `bearer`: Authorization: Bearer it).
  // Returns the body of a 200 answer.
  Result<std::string> HttpGet(const std::string& host, const std::string& endpoint, const std::string& path,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5),
                              const std::string& bearer = "") const;

 private:
  Net(std::string tag, std::vector<std::string> hosts, NetOptions options);
  Status Build();
  void Destroy();
  int HostIndex(const std::string& host) const;

  // Constant after construction.
  std::string tag_;
  std::vector<std::string> hosts_;
  NetOptions options_;
  std::vector<std::string> created_;  // namespaces made so far, in order
  mutable std::vector<pid_t> spawned_;  // by Spawn(); killed on destruction if still unreaped
  int lock_fd_ = -1;
  pid_t guardian_ = -1;
  int guardian_pipe_ = -1;
  std::mutex mu_;  // serializes Cut/Heal
};

// A real process inside a host's namespace, reaped by its owner: Stop() (SIGTERM, then SIGKILL)
// on destruction. Movable, not copyable. REQUIRES: destroyed (or stopped) before its Net.
class HostProcess {
 public:
  HostProcess() = default;
  static Result<HostProcess> Start(const Net& net, const std::string& host, const std::vector<std::string>& argv,
                                   const std::string& log_path, const std::vector<std::string>& env = {});
  ~HostProcess() { Stop(); }
  HostProcess(HostProcess&& o) noexcept { *this = std::move(o); }
  HostProcess& operator=(HostProcess&& o) noexcept;
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for it to end by itself (at most `timeout`); then it is reaped.
  Result<ExitInfo> Wait(std::chrono::milliseconds timeout);
  bool Running();  // reaps it if it ended
  void Stop();     // SIGTERM, SIGKILL after 5 s; reaped
  void Kill();     // SIGKILL; reaped
  const std::string& host() const { return host_; }
  const std::string& log_path() const { return log_; }

 private:
  void Reaped();

  const Net* net_ = nullptr;
  pid_t pid_ = -1;
  std::string host_, log_;
};

// A named grudge: the links are cut on construction and healed by Heal() or the destructor,
// whatever happens in between.
struct Link {
  std::string host;
  Network network;
};
// With heal_after, a thread heals it that long after it was applied (so the length of a cut does
// not depend on how often the test polls).
class Partition {
 public:
  Partition(Net& net, std::string name, std::vector<Link> links,
            std::optional<std::chrono::milliseconds> heal_after = std::nullopt);
  ~Partition() { Heal(); }
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;
  const Status& status() const { return status_; }  // whether every cut took effect
  bool healed();
  void Heal();  // idempotent

 private:
  void HealLinks();  // REQUIRES: mu_ held

  Net& net_;
  const std::string name_;
  const std::vector<Link> links_;
  Status status_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool healed_ = false;  // GUARDED_BY(mu_)
  std::thread timer_;
};

// A link that goes down for `down`, up for `up`, down again ... from construction until Stop() or
// destruction, which leaves it up. The schedule is the fault itself, not a wait for anything.
class Flapper {
 public:
  Flapper(Net& net, Link link, std::chrono::milliseconds down, std::chrono::milliseconds up);
  ~Flapper() { Stop(); }
  Flapper(const Flapper&) = delete;
  Flapper& operator=(const Flapper&) = delete;
  void Stop();
  int flaps() const { return flaps_.load(); }

 private:
  Net& net_;
  Link link_;
  std::chrono::milliseconds down_, up_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<int> flaps_{0};
  std::thread thread_;
};

}  // namespace mr::multihost
