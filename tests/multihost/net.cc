#include "tests/multihost/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "common/process.h"
#include "common/units.h"

extern char** environ;

namespace mr::multihost {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kPrefix = "mrmh-";  // every namespace of the suite starts with this
constexpr size_t kTagLength = 11;          // "mrmh-" + 6 hex digits
constexpr const char* kLockDir = "/run/mr-multihost";

std::string LockPath(const std::string& tag) { return fmt::format("{}/{}.lock", kLockDir, tag); }

Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {IpBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::CommandResult r = testing::RunCommand(argv, std::chrono::seconds(20));
  if (r.exit_code == 0) return Status::OK();
  std::string cmd = "ip";
  for (auto& a : args) cmd += " " + a;
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  return Status::IoError(fmt::format("`{}` failed: {}", cmd, err.empty() ? "exit " + std::to_string(r.exit_code) : err));
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Names of all namespaces (`ip netns list` prints "NAME" or "NAME (id: N)" per line).
std::vector<std::string> ListNamespaces() {
  testing::CommandResult r = testing::RunCommand({IpBinary(), "netns", "list"}, std::chrono::seconds(20));
  std::vector<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto w = Words(line);
    if (!w.empty()) out.push_back(w[0]);
  }
  return out;
}

bool Gone(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return true;  // one of ours: reaped
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  // A zombie someone else will reap is gone for our purposes.
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = content.rfind(')');
  return close == std::string::npos || (close + 2 < content.size() && content[close + 2] == 'Z');
}

// SIGKILLs every process inside the namespace (by PID, from `ip netns pids`) and waits until they
// are gone. Returns how many there were.
int KillAllIn(const std::string& ns) {
  testing::CommandResult r = testing::RunCommand({IpBinary(), "netns", "pids", ns}, std::chrono::seconds(20));
  std::vector<pid_t> pids;
  for (auto& w : Words(r.out)) pids.push_back(std::stoi(w));
  for (pid_t p : pids) {
    ::kill(p, SIGCONT);
    ::kill(p, SIGKILL);
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (pid_t p : pids) {
    while (!Gone(p) && Clock::now() < deadline) std::this_thread::sleep_for(Millis(5));
  }
  return static_cast<int>(pids.size());
}

std::string RandomTag() {
  std::random_device rd;
  return fmt::format("{}{:06x}", kPrefix, rd() & 0xffffff);
}

// Runs f on a thread that has entered the namespace (the calling thread is not affected); returns
// on_error if the thread cannot enter it.
template <class F, class R = std::invoke_result_t<F>>
R InNamespace(const std::string& ns, F f, R on_error) {
  std::optional<R> result;
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (::setns(fd, CLONE_NEWNET) == 0) result.emplace(f());
    ::close(fd);
  });
  t.join();
  return result ? std::move(*result) : std::move(on_error);
}

// A TCP connection to `endpoint` with a deadline, or -1.
int ConnectWithin(const std::string& endpoint, Clock::time_point deadline) {
  auto hp = ParseHostPort(endpoint);
  if (!hp.ok()) return -1;
  struct addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (::getaddrinfo(hp->host.c_str(), std::to_string(hp->port).c_str(), &hints, &res) != 0 || !res) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    int left = static_cast<int>(std::chrono::duration_cast<Millis>(deadline - Clock::now()).count());
    struct pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (left <= 0 || ::poll(&p, 1, left) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

const char* NetworkName(Network n) { return n == Network::kControl ? "ctl" : "data"; }

std::string IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string TcBinary() { return (std::filesystem::path(IpBinary()).parent_path() / "tc").string(); }

std::string WhyUnavailable() {
  static const std::string why = [] () -> std::string {
    if (::geteuid() != 0) return "the multihost tests need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to make network namespaces";
    if (IpBinary().empty()) return "the multihost tests need iproute2's `ip` (apt-get install iproute2)";
    std::string probe = fmt::format("{}probe{}", kPrefix, ::getpid());
    Status st = Ip({"netns", "add", probe});
    if (!st.ok()) return "cannot make a network namespace here: " + st.message();
    (void)Ip({"netns", "del", probe});
    return "";
  }();
  return why;
}

int SweepStale() {
  std::map<std::string, std::vector<std::string>> by_tag;
  for (auto& ns : ListNamespaces()) {
    if (ns.rfind(kPrefix, 0) == 0 && ns.size() > kTagLength && ns[kTagLength] == '-') {
      by_tag[ns.substr(0, kTagLength)].push_back(ns);
    } else if (ns.rfind(std::string(kPrefix) + "probe", 0) == 0) {
      by_tag[ns].push_back(ns);  // a probe left by a process killed while probing
    }
  }
  int removed = 0;
  for (auto& [tag, names] : by_tag) {
    std::string lock = LockPath(tag);
    int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
    bool stale = fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) == 0;  // no owner holds it
    if (!stale) {
      ::close(fd);
      continue;
    }
    for (auto& ns : names) KillAllIn(ns);
    for (auto& ns : names) {
      if (Ip({"netns", "del", ns}).ok()) removed++;
    }
    ::unlink(lock.c_str());
    if (fd >= 0) ::close(fd);
  }
  // Lock files whose owner died after removing its namespaces.
  std::error_code ec;
  for (auto& e : fs::directory_iterator(kLockDir, ec)) {
    if (e.path().extension() != ".lock") continue;
    int fd = ::open(e.path().c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(e.path().c_str());
    ::close(fd);
  }
  return removed;
}

Net::Net(std::string tag, std::vector<std::string> hosts, NetOptions options)
    : tag_(std::move(tag)), hosts_(std::move(hosts)), options_(options) {}

Result<std::unique_ptr<Net>> Net::Create(const std::vector<std::string>& hosts, NetOptions options) {
  std::string why = WhyUnavailable();
  if (!why.empty()) return Status::Unavailable(why);
  if (!options.ipv4 && !options.ipv6) return Status::InvalidArgument("a Net needs IPv4 or IPv6");
  std::set<std::string> seen;
  for (auto& h : hosts) {
    bool ok = !h.empty() && h.size() <= 10 && h != "sw" && seen.insert(h).second;
    for (char c : h) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    if (!ok) return Status::InvalidArgument(fmt::format("bad or repeated host name '{}'", h));
  }
  SweepStale();
  ::mkdir(kLockDir, 0700);
  std::unique_ptr<Net> net;
  std::vector<std::string> existing = ListNamespaces();
  for (int attempt = 0; attempt < 20 && !net; attempt++) {
    std::string tag = RandomTag();
    bool taken = false;
    for (auto& ns : existing) taken = taken || ns.rfind(tag, 0) == 0;
    if (taken) continue;
    int fd = ::open(LockPath(tag).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    // A concurrent sweep may unlink a lock file between its creation and the flock: only a file
    // still in place counts.
    struct stat held{}, named{};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &held) != 0 || ::stat(LockPath(tag).c_str(), &named) != 0 ||
        held.st_ino != named.st_ino) {
      ::close(fd);
      continue;
    }
    net.reset(new Net(tag, hosts, options));
    net->lock_fd_ = fd;
  }
  if (!net) return Status::Unavailable("cannot take a lock under /run/mr-multihost");

  // The guardian: a shell that waits on a pipe. "done" means the Net cleaned up after itself; EOF
  // without it means the test process died, and the guardian removes what the Net left.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::IoError(fmt::format("pipe: {}", strerror(errno)));
  static const char* kScript = R"sh(
IFS= read -r line
[ "$line" = done ] && exit 0
ip=$1 tag=$2 lock=$3
mine() { "$ip" netns list | while read -r ns rest; do case "$ns" in "$tag"-*) echo "$ns";; esac; done; }
for ns in $(mine); do for p in $("$ip" netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done; done
n=0
while [ $n -lt 100 ]; do
  left=; for ns in $(mine); do [ -n "$("$ip" netns pids "$ns")" ] && left=1; done
  [ -z "$left" ] && break; sleep 0.1; n=$((n + 1))
done
for ns in $(mine); do "$ip" netns del "$ns"; done
rm -f "$lock"
)sh";
  std::string ip = IpBinary(), lock = LockPath(net->tag_);
  std::vector<const char*> argv = {"/bin/sh", "-c", kScript, "mr-multihost-guardian", ip.c_str(), net->tag_.c_str(),
                                   lock.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::IoError(fmt::format("fork: {}", strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::dup2(fds[0], 0);
    ::setsid();  // a Ctrl-C to the test's process group does not reach it
    ::execve(argv[0], const_cast<char* const*>(argv.data()), environ);
    ::_exit(127);
  }
  ::close(fds[0]);
  net->guardian_ = pid;
  net->guardian_pipe_ = fds[1];

  Status st = net->Build();
  if (!st.ok()) return st;  // the destructor removes what was made
  return net;
}

Status Net::Build() {
  std::string sw = tag_ + "-sw";
  MR_RETURN_IF_ERROR(Ip({"netns", "add", sw}));
  created_.push_back(sw);
  MR_RETURN_IF_ERROR(Ip({"-n", sw, "link", "set", "lo", "up"}));
  for (Network n : {Network::kControl, Network::kData}) {
    std::string br = fmt::format("br-{}", NetworkName(n));
    MR_RETURN_IF_ERROR(Ip({"-n", sw, "link", "add", br, "type", "bridge", "mcast_snooping", "0"}));
    MR_RETURN_IF_ERROR(Ip({"-n", sw, "link", "set", br, "up"}));
  }
  for (auto& host : hosts_) {
    std::string ns = Namespace(host);
    MR_RETURN_IF_ERROR(Ip({"netns", "add", ns}));
    created_.push_back(ns);
    MR_RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", "lo", "up"}));
    for (Network n : {Network::kControl, Network::kData}) {
      std::string inside = NetworkName(n), port = fmt::format("{}-{}", host, NetworkName(n));
      // Both ends are made directly in their namespaces: the root namespace never sees them.
      MR_RETURN_IF_ERROR(Ip({"link", "add", inside, "netns", ns, "type", "veth", "peer", "name", port, "netns", sw}));
      MR_RETURN_IF_ERROR(Ip({"-n", sw, "link", "set", port, "master", fmt::format("br-{}", NetworkName(n)), "up"}));
      if (options_.ipv4) {
        MR_RETURN_IF_ERROR(Ip({"-n", ns, "addr", "add", Address(host, n, Family::kIpv4) + "/24", "dev", inside}));
      }
      if (options_.ipv6) {
        MR_RETURN_IF_ERROR(
            Ip({"-n", ns, "addr", "add", Address(host, n, Family::kIpv6) + "/64", "dev", inside, "nodad"}));
      }
      MR_RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", inside, "up"}));
    }
  }
  return Status::OK();
}

Net::~Net() { Destroy(); }

void Net::Destroy() {
  // Processes this Net spawned that nobody reaped: killed by PID. An unreaped child's PID cannot
  // have been reused, so waitpid() saying it is still ours makes the kill safe. (One spawned just
  // now may not have entered its namespace yet, so `ip netns pids` would miss it.)
  for (pid_t pid : spawned_) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != 0) continue;  // reaped now, or not ours any more
    ::kill(pid, SIGKILL);
    (void)WaitFor(pid, std::chrono::seconds(10));
  }
  spawned_.clear();
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    int left = KillAllIn(*it);
    if (left > 0) fmt::print(stderr, "multihost: killed {} leftover process(es) in {}\n", left, *it);
  }
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    Status st = Ip({"netns", "del", *it});
    if (!st.ok()) fmt::print(stderr, "multihost: {}\n", st.ToString());
  }
  created_.clear();
  if (guardian_pipe_ >= 0) {
    ssize_t n = ::write(guardian_pipe_, "done\n", 5);
    (void)n;
    ::close(guardian_pipe_);
    guardian_pipe_ = -1;
  }
  if (guardian_ > 0) {
    if (!WaitFor(guardian_, std::chrono::seconds(10)).ok()) Terminate(guardian_, Millis(1000));
    guardian_ = -1;
  }
  if (lock_fd_ >= 0) {
    ::unlink(LockPath(tag_).c_str());
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

std::string Net::Namespace(const std::string& host) const { return fmt::format("{}-{}", tag_, host); }

int Net::HostIndex(const std::string& host) const {
  for (size_t i = 0; i < hosts_.size(); i++) {
    if (hosts_[i] == host) return static_cast<int>(i);
  }
  return -1;
}

std::string Net::Address(const std::string& host, Network network, Family family) const {
  int i = HostIndex(host);
  if (i < 0) return "";
  int subnet = network == Network::kControl ? 1 : 2;
  if (family == Family::kIpv4) return fmt::format("10.201.{}.{}", subnet, 10 + i);
  return fmt::format("fd00:201:{}::{}", subnet, 10 + i);
}

std::string Net::Address(const std::string& host, Network network) const {
  return Address(host, network, options_.ipv4 ? Family::kIpv4 : Family::kIpv6);
}

std::string Net::Endpoint(const std::string& host, Network network, int port) const {
  return HostPort{Address(host, network), static_cast<uint16_t>(port)}.ToString();
}

Status Net::Cut(const std::string& host, Network network) {
  std::lock_guard<std::mutex> lock(mu_);
  return Ip({"-n", tag_ + "-sw", "link", "set", fmt::format("{}-{}", host, NetworkName(network)), "down"});
}

Status Net::Heal(const std::string& host, Network network) {
  std::lock_guard<std::mutex> lock(mu_);
  return Ip({"-n", tag_ + "-sw", "link", "set", fmt::format("{}-{}", host, NetworkName(network)), "up"});
}

Status Net::HealAll() {
  Status first;
  for (auto& h : hosts_) {
    for (Network n : {Network::kControl, Network::kData}) {
      Status st = Heal(h, n);
      if (first.ok() && !st.ok()) first = st;
    }
  }
  return first;
}

Status Net::LimitRate(const std::string& host, Network network, const std::string& rate) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string tc = TcBinary();
  const std::pair<std::string, std::string> ends[] = {{Namespace(host), NetworkName(network)},
                                                      {tag_ + "-sw", fmt::format("{}-{}", host, NetworkName(network))}};
  for (const auto& [ns, dev] : ends) {
    // A burst of 256 KiB and at most 50 ms of queue: a line-rate link, not a deep buffer.
    MR_RETURN_IF_ERROR(Ip({"netns", "exec", ns, tc, "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate,
                           "burst", "256kb", "latency", "50ms"}));
  }
  return Status::OK();
}

Result<pid_t> Net::Spawn(const std::string& host, const std::vector<std::string>& argv, const std::string& log_path,
                         const std::vector<std::string>& env) const {
  if (HostIndex(host) < 0) return Status::InvalidArgument("no host " + host);
  std::vector<std::string> full = {IpBinary(), "netns", "exec", Namespace(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  auto pid = mr::Spawn(full, log_path, env);
  if (pid.ok()) spawned_.push_back(*pid);
  return pid;
}

void Net::Forget(pid_t pid) const { std::erase(spawned_, pid); }

testing::CommandResult Net::Run(const std::string& host, const std::vector<std::string>& argv, Millis timeout) const {
  std::vector<std::string> full = {IpBinary(), "netns", "exec", Namespace(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  return testing::RunCommand(full, timeout);
}

bool Net::CanConnect(const std::string& host, const std::string& endpoint, Millis timeout) const {
  auto deadline = Clock::now() + timeout;
  return InNamespace(Namespace(host), [&] {
    int fd = ConnectWithin(endpoint, deadline);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }, false);
}

Result<std::string> Net::HttpGet(const std::string& host, const std::string& endpoint, const std::string& path,
                                 Millis timeout, const std::string& bearer) const {
  auto deadline = Clock::now() + timeout;
  return InNamespace(Namespace(host), [&]() -> Result<std::string> {
    int fd = ConnectWithin(endpoint, deadline);
    if (fd < 0) return Status::Unavailable(fmt::format("cannot connect to {} from {}", endpoint, host));
    std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{}\r\n", path, endpoint,
                                  bearer.empty() ? "" : "Authorization: Bearer " + bearer + "\r\n");
    std::string raw;
    size_t sent = 0;
    bool ok = true;
    while (ok) {
      int left = static_cast<int>(std::chrono::duration_cast<Millis>(deadline - Clock::now()).count());
      struct pollfd p{fd, static_cast<short>(sent < req.size() ? POLLOUT : POLLIN), 0};
      if (left <= 0 || ::poll(&p, 1, left) != 1) {
        ok = false;
        break;
      }
      if (sent < req.size()) {
        ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) ok = false;
        else sent += n;
        continue;
      }
      char buf[16384];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0) break;
      if (n < 0) {
        ok = errno == EAGAIN || errno == EINTR;
        continue;
      }
      raw.append(buf, n);
    }
    ::close(fd);
    if (!ok) return Status::Unavailable(fmt::format("GET {}{} from {}: no complete answer in time", endpoint, path, host));
    size_t split = raw.find("\r\n\r\n");
    if (split == std::string::npos || raw.size() < 12 || raw.rfind("HTTP/1.", 0) != 0) {
      return Status::Protocol(fmt::format("GET {}{}: not an HTTP answer", endpoint, path));
    }
    int code = std::atoi(raw.substr(9, 3).c_str());
    if (code != 200) return Status::Unavailable(fmt::format("GET {}{}: HTTP {}", endpoint, path, code));
    return raw.substr(split + 4);
  }, Result<std::string>(Status::IoError("cannot enter the namespace of " + host)));
}

Result<HostProcess> HostProcess::Start(const Net& net, const std::string& host, const std::vector<std::string>& argv,
                                       const std::string& log_path, const std::vector<std::string>& env) {
  auto pid = net.Spawn(host, argv, log_path, env);
  if (!pid.ok()) return pid.status();
  HostProcess p;
  p.net_ = &net;
  p.pid_ = *pid;
  p.host_ = host;
  p.log_ = log_path;
  return p;
}

HostProcess& HostProcess::operator=(HostProcess&& o) noexcept {
  if (this != &o) {
    Stop();
    net_ = o.net_;
    pid_ = o.pid_;
    host_ = std::move(o.host_);
    log_ = std::move(o.log_);
    o.pid_ = -1;
  }
  return *this;
}

bool HostProcess::Running() {
  if (pid_ <= 0) return false;
  if (WaitFor(pid_, Millis(0)).ok()) {
    Reaped();
    return false;
  }
  return true;
}

Result<ExitInfo> HostProcess::Wait(Millis timeout) {
  if (pid_ <= 0) return Status::NotFound("not running");
  auto r = WaitFor(pid_, timeout);
  if (r.ok()) Reaped();
  return r;
}

void HostProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  Terminate(pid_, Millis(5000));
  Reaped();
}

void HostProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)WaitFor(pid_, std::chrono::seconds(30));
  Reaped();
}

void HostProcess::Reaped() {
  if (net_ != nullptr) net_->Forget(pid_);
  pid_ = -1;
}

Partition::Partition(Net& net, std::string name, std::vector<Link> links, std::optional<Millis> heal_after)
    : net_(net), name_(std::move(name)), links_(std::move(links)) {
  for (auto& l : links_) {
    Status st = net_.Cut(l.host, l.network);
    if (status_.ok() && !st.ok()) status_ = st;
  }
  fmt::print(stderr, "multihost: partition '{}' applied\n", name_);
  if (heal_after) {
    timer_ = std::thread([this, after = *heal_after] {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, after, [this] { return healed_; });
      HealLinks();
    });
  }
}

bool Partition::healed() {
  std::lock_guard<std::mutex> lock(mu_);
  return healed_;
}

void Partition::HealLinks() {
  if (healed_) return;
  healed_ = true;
  for (auto& l : links_) {
    Status st = net_.Heal(l.host, l.network);
    if (!st.ok()) fmt::print(stderr, "multihost: healing '{}': {}\n", name_, st.ToString());
  }
  fmt::print(stderr, "multihost: partition '{}' healed\n", name_);
}

void Partition::Heal() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    HealLinks();
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

Flapper::Flapper(Net& net, Link link, Millis down, Millis up) : net_(net), link_(std::move(link)), down_(down), up_(up) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      (void)net_.Cut(link_.host, link_.network);
      cv_.wait_for(lock, down_, [this] { return stop_; });
      (void)net_.Heal(link_.host, link_.network);
      flaps_++;
      if (stop_) break;
      cv_.wait_for(lock, up_, [this] { return stop_; });
    }
  });
}

void Flapper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  (void)net_.Heal(link_.host, link_.network);
}

}  // namespace mr::multihost
