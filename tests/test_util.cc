#include "tests/test_util.h"

#include <signal.h>
#include <unistd.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "common/raw_socket_testing.h"

namespace mr::testing {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

namespace {

// Every process a test starts finds a tokenless master's local token (common/credentials.h) in a
// runtime directory of this test process's own, removed at exit: tests neither leave tokens in
// the user's home nor see those of other tests.
struct PrivateRuntimeDir {
  PrivateRuntimeDir() { ::setenv("XDG_RUNTIME_DIR", dir.path().c_str(), 1); }
  TempDir dir;
};
const PrivateRuntimeDir kRuntimeDir;

}  // namespace

size_t CountOf(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t p = text.find(part); p != std::string::npos && !part.empty(); p = text.find(part, p + 1)) n++;
  return n;
}

bool WaitForText(const std::string& path, const std::string& text, size_t times, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::error_code ec;
    if (fs::exists(path, ec) && CountOf(ReadFile(path), text) >= times) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string MrBinary() {
  const char* p = std::getenv("MR_BIN");
  return p ? p : "mr";
}

std::string SourceDir() {
  const char* p = std::getenv("MR_SOURCE_DIR");
  return p ? p : ".";
}

std::string GutenbergDir() {
  fs::path p = fs::path(SourceDir()) / ".." / "shared" / "data" / "gutenberg";
  std::error_code ec;
  return fs::is_directory(p, ec) ? fs::canonical(p).string() : "";
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  ASSERT_TRUE(f.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv, Millis timeout) {
  TempDir io;
  CommandResult r;
  // stdout and stderr are captured separately through a small shell-free redirection: the child
  // writes stdout to one file and stderr to another.
  std::string out = io / "out", err = io / "err";
  std::vector<std::string> wrapped = {"/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$MR_T_OUT\" 2>\"$MR_T_ERR\""};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  auto pid = Spawn(wrapped, "", {"MR_T_OUT=" + out, "MR_T_ERR=" + err});
  if (!pid.ok()) {
    r.err = pid.status().ToString();
    return r;
  }
  auto done = WaitFor(*pid, timeout);
  ExitInfo info = done.ok() ? *done : Terminate(*pid, Millis(2000));
  r.exit_code = done.ok() && info.exited ? info.code : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

CommandResult RunMr(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv = {MrBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

std::string ReadJobOutput(const std::string& dir, int reducers) {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected;
  for (int i = 0; i < reducers; i++) expected.push_back(fmt::format("part-r-{:05}", i));
  expected.push_back("_SUCCESS");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected) << "unexpected files in " << dir;
  std::string all;
  for (int i = 0; i < reducers; i++) all += ReadFile(fmt::format("{}/part-r-{:05}", dir, i));
  return all;
}

std::string SortLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

std::string ReferenceWordCount(const std::vector<std::string>& files, bool lowercase) {
  std::vector<std::string> argv = {"/usr/bin/env", "python3", SourceDir() + "/tests/reference/wordcount.py"};
  if (lowercase) argv.push_back("--lowercase");
  argv.insert(argv.end(), files.begin(), files.end());
  CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

Cluster::~Cluster() { StopAll(); }

void Cluster::StopAll() {
  for (auto& w : workers_) {
    if (w.alive) {
      ::kill(w.pid, SIGCONT);
      Terminate(w.pid, Millis(5000));
    }
    w.alive = false;
  }
  if (master_ > 0) Terminate(master_, Millis(5000));
  master_ = -1;
}

Status Cluster::StartMaster(const std::vector<std::string>& extra, const std::vector<std::string>& env) {
  master_flags_ = extra;
  return RestartMaster(env);
}

Status Cluster::RestartMaster(const std::vector<std::string>& env) {
  std::string dir = root_ + "/master";
  std::string listen = master_address_.empty() ? "127.0.0.1:0" : master_address_;
  std::vector<std::string> argv = {MrBinary(), "master", "--listen", listen, "--data-dir", dir};
  // Never the fixed default HTTP port: tests run side by side.
  if (std::find(master_flags_.begin(), master_flags_.end(), "--http") == master_flags_.end()) {
    argv.insert(argv.end(), {"--http", "127.0.0.1:0"});
  }
  argv.insert(argv.end(), master_flags_.begin(), master_flags_.end());
  fs::create_directories(dir);
  std::error_code ec;
  fs::remove(dir + "/ADDRESS", ec);
  auto pid = Spawn(argv, root_ + "/master.log", env);
  if (!pid.ok()) return pid.status();
  master_ = *pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream f(dir + "/ADDRESS");
    std::string word, addr;
    if (f >> word >> addr) {
      master_address_ = addr;
      if (f >> word >> addr && word == "http") http_address_ = addr;
      return Status::OK();
    }
    if (WaitFor(master_, Millis(10)).ok()) {
      master_ = -1;
      return Status::Unavailable("master exited: " + ReadFile(root_ + "/master.log"));
    }
  }
  return Status::Unavailable("master did not start");
}

void Cluster::KillMaster() {
  if (master_ <= 0) return;
  ::kill(master_, SIGKILL);
  (void)WaitFor(master_, Millis(10000));
  master_ = -1;
}

bool Cluster::MasterAlive() {
  if (master_ <= 0) return false;
  if (WaitFor(master_, Millis(0)).ok()) {
    master_ = -1;
    return false;
  }
  return true;
}

Result<pid_t> Cluster::SpawnWorker(const std::string& dir, const std::string& log,
                                   const std::vector<std::string>& flags, const std::vector<std::string>& env,
                                   const std::vector<std::string>& wrapper) {
  std::vector<std::string> argv = wrapper;
  argv.insert(argv.end(), {MrBinary(), "worker", "--master", master_address_, "--data-dir", dir, "--listen",
                           "127.0.0.1:0"});
  // A master that runs user code gets workers that do (the cluster is the test's own, as mr run's).
  // (A test's own --allow-user-code=false keeps it from one.)
  if (std::find(master_flags_.begin(), master_flags_.end(), "--allow-user-code") != master_flags_.end() &&
      std::none_of(flags.begin(), flags.end(), [](const std::string& f) { return f.starts_with("--allow-user-code"); })) {
    argv.push_back("--allow-user-code");
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  return Spawn(argv, log, env);
}

Status Cluster::StartWorker(const std::vector<std::string>& extra, const std::vector<std::string>& env,
                            const std::vector<std::string>& wrapper) {
  int n = started_workers_++;
  std::string dir = fmt::format("{}/worker-{}", root_, n);
  auto pid = SpawnWorker(dir, fmt::format("{}/worker-{}.log", root_, n), extra, env, wrapper);
  if (!pid.ok()) return pid.status();
  workers_.push_back({*pid, extra, true, dir});
  return Status::OK();
}

Status Cluster::RestartWorker(size_t i, const std::vector<std::string>& env) {
  Proc& p = workers_.at(i);
  if (p.alive) return Status::InvalidArgument(fmt::format("worker {} is still running", i));
  auto pid = SpawnWorker(p.dir, p.dir + ".log", p.flags, env, {});
  if (!pid.ok()) return pid.status();
  p.pid = *pid;
  p.alive = true;
  return Status::OK();
}

void Cluster::SignalWorker(size_t i, int sig) {
  ASSERT_LT(i, workers_.size());
  ASSERT_TRUE(workers_[i].alive);
  ::kill(workers_[i].pid, sig);
  if (sig == SIGKILL) {
    (void)WaitFor(workers_[i].pid, Millis(10000));
    workers_[i].alive = false;
  }
}

int Cluster::ReapWorkers(bool restart, const std::vector<std::string>& env) {
  int reaped = 0;
  for (size_t i = 0; i < workers_.size(); i++) {
    if (!workers_[i].alive || !WaitFor(workers_[i].pid, Millis(0)).ok()) continue;
    workers_[i].alive = false;
    reaped++;
    if (restart) {
      EXPECT_TRUE(StartWorker(workers_[i].flags, env).ok());
    }
  }
  return reaped;
}

JobState ParseJobState(const std::string& json_text) {
  JobState js;
  try {
    nlohmann::json j = nlohmann::json::parse(json_text);
    js.state = j.at("state").get<std::string>();
    js.maps_done = j.at("maps").at("done").get<int>();
    js.maps_total = j.at("maps").at("total").get<int>();
    js.reduces_done = j.at("reduces").at("done").get<int>();
    js.reduces_total = j.at("reduces").at("total").get<int>();
    js.error = j.value("error", "");
    js.json = json_text;
    js.answered = true;
  } catch (const std::exception&) {
    return JobState{};
  }
  return js;
}

int64_t JobState::Counter(const std::string& name) const {
  if (!answered) return -1;
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("counters") || !j["counters"].contains(name)) return -1;
  return j["counters"][name].get<int64_t>();
}

std::string JobState::Summary() const {
  if (!answered) return "no answer from the master";
  std::string s = fmt::format("{} maps {}/{} reduces {}/{}", state, maps_done, maps_total, reduces_done, reduces_total);
  if (!error.empty()) s += " error: " + error;
  return s;
}

JobState Cluster::Job(uint64_t id) {
  CommandResult r = RunMr({"status", std::to_string(id), "--master", master_address_, "--json"}, Millis(10000));
  if (r.exit_code != 0) return JobState{};
  return ParseJobState(r.out);
}

JobState Cluster::WaitForJob(uint64_t id, Millis timeout, const std::function<void(const JobState&)>& each_poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  JobState js;
  while (std::chrono::steady_clock::now() < deadline) {
    js = Job(id);
    if (js.Ended()) return js;
    if (each_poll) each_poll(js);
    std::this_thread::sleep_for(Millis(50));
  }
  ADD_FAILURE() << "job " << id << " did not end in time; last status: " << js.json;
  return js;
}

Status Cluster::WaitForWorkers(size_t n, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::regex id(R"("id": ")");
  while (std::chrono::steady_clock::now() < deadline) {
    CommandResult r = RunMr({"workers", "--master", master_address_, "--json"}, Millis(10000));
    if (r.exit_code == 0) {
      size_t count = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), id), std::sregex_iterator());
      if (count >= n) return Status::OK();
    }
    std::this_thread::sleep_for(Millis(50));
  }
  return Status::Unavailable(fmt::format("{} workers did not register in time", n));
}

std::string HttpResult::Header(const std::string& name) const {
  std::smatch m;
  std::regex re("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase);
  return std::regex_search(head, m, re) ? m[1].str() : "";
}

HttpResult Http(const std::string& address, const std::string& path, const std::string& method,
                const std::string& bearer) {
  HttpResult r;
  int fd = RawConnect(address, std::chrono::seconds(10));
  if (fd < 0) return r;
  SendBytes(fd, method + " " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n" +
                    (bearer.empty() ? "" : "Authorization: Bearer " + bearer + "\r\n") + "\r\n");
  std::string raw = ReadToEnd(fd);
  ::close(fd);
  size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return r;
  r.head = raw.substr(0, split + 2);
  r.body = raw.substr(split + 4);
  r.status = std::stoi(raw.substr(9, 3));
  return r;
}

nlohmann::json GetJson(const std::string& address, const std::string& path, const std::string& bearer) {
  HttpResult r = Http(address, path, "GET", bearer);
  EXPECT_EQ(r.status, 200) << path << "\n" << r.head << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json") << path;
  if (r.status != 200) return nlohmann::json::object();
  return nlohmann::json::parse(r.body);
}

}  // namespace mr::testing
