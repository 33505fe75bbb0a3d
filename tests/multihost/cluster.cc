#include "tests/multihost/cluster.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "common/units.h"

namespace mr::multihost {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

Result<std::unique_ptr<Cluster>> Cluster::Create(const ClusterOptions& options) {
  std::unique_ptr<Cluster> c(new Cluster(options));
  std::vector<std::string> hosts = {"master"};
  for (int i = 0; i < options.workers; i++) hosts.push_back(WorkerHost(i));
  hosts.push_back("client");
  hosts.insert(hosts.end(), options.extra_hosts.begin(), options.extra_hosts.end());
  NetOptions net_options;
  net_options.ipv4 = !options.ipv6_only;
  auto net = Net::Create(hosts, net_options);
  if (!net.ok()) return net.status();
  c->net_ = std::move(*net);
  c->workers_.resize(options.workers);

  // The cluster token, as the README makes it: random, in a file only its owner can read.
  fs::create_directories(c->tmp_ / "cred");
  std::random_device rd;
  std::string token;
  for (int i = 0; i < 32; i++) token += fmt::format("{:02x}", rd() & 0xff);
  testing::WriteFile(c->token_file(), token + "\n");
  ::chmod(c->token_file().c_str(), 0600);
  return c;
}

Cluster::~Cluster() {
  for (auto& w : workers_) w.Stop();
  master_.Stop();
}

Result<std::vector<std::string>> Cluster::UnitCommand(const std::string& unit, const std::string& env_file,
                                                      const Vars& overrides, const std::string& host) const {
  auto exec = ReadExecStart(DeployDir() + "/systemd/" + unit);
  if (!exec.ok()) return exec.status();
  auto vars = ReadEnvironmentFile(DeployDir() + "/systemd/" + env_file);
  if (!vars.ok()) return vars.status();
  for (auto& [k, v] : overrides) (*vars)[k] = v;
  std::string state = tmp_ / (host + "/state");
  auto argv = ExpandExecStart(*exec, *vars, {{'d', tmp_ / "cred"}, {'S', state}});
  if (!argv.ok()) return argv.status();
  (*argv)[0] = testing::MrBinary();
  // StateDirectory= makes the data dir before the service starts.
  auto it = std::find(argv->begin(), argv->end(), "--data-dir");
  if (it != argv->end() && it + 1 != argv->end()) fs::create_directories(*(it + 1));
  return argv;
}

Result<std::vector<std::string>> Cluster::MasterCommand() const {
  Vars v = {{"MR_MASTER_OPTS", "--worker-timeout " + options_.worker_timeout +
                                   (options_.allow_user_code ? " --allow-user-code" : "")}};
  if (options_.ipv6_only) {
    v["MR_LISTEN"] = fmt::format("[::]:{}", kMasterPort);
    v["MR_HTTP"] = fmt::format("[::]:{}", kHttpPort);
  }
  return UnitCommand("mr-master.service", "master.env", v, "master");
}

Result<std::vector<std::string>> Cluster::WorkerCommand(int i) const {
  std::string host = WorkerHost(i);
  Vars v = {{"MR_MASTER", MasterRpc()},
            {"MR_ADVERTISE", net_->Address(host, options_.shuffle_network)},
            {"MR_WORKER_OPTS", fmt::format("--slots {} --threads 1 --heartbeat {}{}", options_.slots, options_.heartbeat,
                                           options_.allow_user_code ? " --allow-user-code" : "")}};
  if (options_.ipv6_only) v["MR_LISTEN"] = "[::]:7072";
  if (auto m = options_.worker_master_via.find(i); m != options_.worker_master_via.end()) {
    v["MR_MASTER"] = net_->Endpoint(m->second, Network::kControl, kMasterPort);
  }
  if (auto a = options_.worker_advertise_as.find(i); a != options_.worker_advertise_as.end()) {
    v["MR_ADVERTISE"] = net_->Address(a->second, options_.shuffle_network);
  }
  return UnitCommand("mr-worker.service", "worker.env", v, host);
}

Status Cluster::StartMaster() {
  auto cmd = MasterCommand();
  if (!cmd.ok()) return cmd.status();
  auto p = HostProcess::Start(*net_, "master", *cmd, tmp_ / "master.log", options_.master_env);
  if (!p.ok()) return p.status();
  master_ = std::move(*p);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (!master_.Running()) return Status::Unavailable("the master exited:\n" + LogTails());
    // Ready as a readiness probe sees it (deploy/kubernetes): /readyz, from another host.
    if (net_->CanConnect("client", MasterRpc(), Millis(500)) &&
        net_->HttpGet("client", MasterHttp(), "/readyz", Millis(1000)).ok()) {
      return Status::OK();
    }
    std::this_thread::sleep_for(Millis(20));
  }
  return Status::Unavailable(fmt::format("the master was not ready at {} (/readyz on {}) within 30 s", MasterRpc(),
                                         MasterHttp()));
}

void Cluster::KillMaster() { master_.Kill(); }

bool Cluster::MasterRunning() { return master_.Running(); }

Status Cluster::StartWorker(int i) {
  auto cmd = WorkerCommand(i);
  if (!cmd.ok()) return cmd.status();
  std::string host = WorkerHost(i);
  auto p = HostProcess::Start(*net_, host, *cmd, tmp_ / (host + ".log"), options_.worker_env);
  if (!p.ok()) return p.status();
  workers_[i] = std::move(*p);
  return Status::OK();
}

Status Cluster::StartWorkers() {
  for (int i = 0; i < options_.workers; i++) MR_RETURN_IF_ERROR(StartWorker(i));
  return WaitForWorkers(options_.workers);
}

Status Cluster::WaitForWorkers(size_t n, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last;
  while (Clock::now() < deadline) {
    for (int i = 0; i < options_.workers; i++) {
      if (workers_[i].pid() > 0 && !workers_[i].Running()) {
        return Status::Unavailable(fmt::format("worker {} exited:\n{}", WorkerHost(i), LogTails()));
      }
    }
    testing::CommandResult r = Client({"workers", "--json"}, Millis(5000));
    last = r.out + r.err;
    if (r.exit_code == 0) {
      size_t count = 0;
      for (size_t pos = 0; (pos = r.out.find("\"id\"", pos)) != std::string::npos; pos++) count++;
      if (count >= n) return Status::OK();
    }
    std::this_thread::sleep_for(Millis(100));
  }
  return Status::Unavailable(fmt::format("{} workers did not register within {} ms; `mr workers`: {}\n{}", n,
                                         timeout.count(), last, LogTails()));
}

testing::CommandResult Cluster::Client(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {testing::MrBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--master", MasterRpc(), "--token-file", token_file()});
  return net_->Run("client", argv, timeout);
}

Result<uint64_t> Cluster::Submit(const std::vector<std::string>& job_args) {
  std::vector<std::string> args = {"submit"};
  args.insert(args.end(), job_args.begin(), job_args.end());
  args.push_back("--json");
  testing::CommandResult r = Client(args, Millis(30000));
  if (r.exit_code != 0) return Status::Unavailable(fmt::format("mr submit: exit {}: {}{}", r.exit_code, r.out, r.err));
  try {
    return json::parse(r.out).at("id").get<uint64_t>();
  } catch (const std::exception& e) {
    return Status::Protocol(fmt::format("mr submit printed '{}': {}", r.out, e.what()));
  }
}

JobState Cluster::Job(uint64_t id) {
  testing::CommandResult r = Client({"status", std::to_string(id), "--json"}, Millis(5000));
  if (r.exit_code != 0) return JobState{};
  return testing::ParseJobState(r.out);
}

JobState Cluster::WaitForJob(uint64_t id, Millis timeout, const std::function<void(const JobState&)>& each_poll) {
  auto deadline = Clock::now() + timeout;
  JobState v;
  while (Clock::now() < deadline) {
    JobState now = Job(id);
    if (now.answered) v = now;
    if (v.Ended()) return v;
    if (each_poll) each_poll(now);
    std::this_thread::sleep_for(Millis(100));
  }
  return v;
}

Result<std::string> Cluster::Metrics() {
  // Off loopback the API needs a token: the scraper's (the cluster token here).
  std::string token = testing::ReadFile(token_file());
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return net_->HttpGet("client", MasterHttp(), "/metrics", std::chrono::seconds(5), token);
}

double Cluster::Metric(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
  }
  return -1;
}

std::string Cluster::LogTails(size_t lines) const {
  std::string out;
  std::vector<std::string> logs;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(tmp_.path(), ec)) {
    if (e.path().extension() == ".log") logs.push_back(e.path().string());
  }
  std::sort(logs.begin(), logs.end());
  for (auto& path : logs) {
    std::ifstream f(path);
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(f, line)) {
      tail.push_back(line);
      if (tail.size() > lines) tail.pop_front();
    }
    out += fmt::format("--- {} (last {} lines)\n", fs::path(path).filename().string(), tail.size());
    for (auto& l : tail) out += l + "\n";
  }
  return out;
}

std::vector<std::string> MakeCorpus(const std::string& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(20261129);
  const char* words[] = {"alpha", "beta",  "Gamma", "delta", "épsilon", "zeta",  "ηta",   "θήτα",
                         "iota",  "kappa", "lambda", "mu",   "νυ",      "xi",    "omicron", "пи",
                         "rho",   "sigma", "tau",   "ύψιλον", "phi",    "chi",   "psi",   "ωμέγα"};
  std::vector<std::string> files;
  for (int f = 0; f < 4; f++) {
    std::string text;
    while (text.size() < 150 * 1024) {
      int n = rng() % 14;
      for (int i = 0; i < n; i++) {
        text += words[rng() % std::size(words)];
        if (rng() % 5 == 0) text += std::to_string(rng() % 100);  // digits separate words
        text += (rng() % 9 == 0) ? ", " : " ";
      }
      text += (f == 1 && rng() % 7 == 0) ? "\r\n" : "\n";
    }
    std::string path = fmt::format("{}/part{}.txt", dir, f);
    testing::WriteFile(path, text);
    files.push_back(path);
  }
  testing::WriteFile(dir + "/_ignored.txt", "zzignored\n");
  return files;
}

Result<std::string> FaultFreeOutput(const std::string& input_dir, int reducers, const std::string& split_size) {
  static TempDir dir;
  static std::map<std::string, std::string> cache;
  std::string key = fmt::format("{}|{}|{}", input_dir, reducers, split_size);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  std::string out = fmt::format("{}/out-{}", dir.path(), cache.size());
  // `mr run` talks to its master and workers on loopback: inside a namespace of its own, so the
  // suite never uses the root namespace's network.
  auto net = Net::Create({"solo"});
  if (!net.ok()) return net.status();
  testing::CommandResult r = (*net)->Run(
      "solo",
      {testing::MrBinary(), "run", "--job", "wordcount", "--input", input_dir, "--output", out, "--reducers",
       std::to_string(reducers), "--split-size", split_size, "--workers", "2"},
      std::chrono::seconds(120));
  if (r.exit_code != 0) return Status::Internal(fmt::format("fault-free mr run failed: {}{}", r.out, r.err));

  // The fault-free run itself agrees with the independent reference.
  std::vector<std::string> files;
  for (auto& e : fs::directory_iterator(input_dir)) {
    std::string name = e.path().filename().string();
    if (name[0] != '_' && name[0] != '.') files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::string all;
  for (int i = 0; i < reducers; i++) all += testing::ReadFile(fmt::format("{}/part-r-{:05}", out, i));
  if (testing::SortLines(all) != testing::SortLines(testing::ReferenceWordCount(files))) {
    return Status::Internal("the fault-free run disagrees with tests/reference/wordcount.py");
  }
  cache[key] = out;
  return out;
}

::testing::AssertionResult SameOutput(const std::string& dir, const std::string& expected_dir, int reducers) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return ::testing::AssertionFailure() << dir << " does not exist";
  std::vector<std::string> names, want;
  for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  for (int i = 0; i < reducers; i++) want.push_back(fmt::format("part-r-{:05}", i));
  want.push_back("_SUCCESS");
  std::sort(names.begin(), names.end());
  std::sort(want.begin(), want.end());
  if (names != want) {
    std::string got;
    for (auto& n : names) got += " " + n;
    return ::testing::AssertionFailure() << dir << " holds" << got << "; want " << reducers << " part files and _SUCCESS";
  }
  for (int i = 0; i < reducers; i++) {
    std::string part = fmt::format("part-r-{:05}", i);
    std::string a = testing::ReadFile(dir + "/" + part), b = testing::ReadFile(expected_dir + "/" + part);
    if (a != b) {
      return ::testing::AssertionFailure() << part << " differs from the fault-free run (" << a.size() << " vs "
                                           << b.size() << " bytes)";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mr::multihost
