#include "client/run.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <thread>

#include "common/auth.h"
#include "common/process.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

struct Child {
  std::string name;
  pid_t pid = -1;
  ExitInfo exit;
  bool reaped = false;
};

struct MasterAddresses {
  std::string rpc;
  std::string http;  // "" if the master did not write one
};

// Waits for the master to write its address file ("rpc HOST:PORT" then "http HOST:PORT", written
// at once); fails if the master exits first.
Result<MasterAddresses> WaitForMasterAddress(const std::string& dir, Child& master) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline && !g_interrupted) {
    std::ifstream f(dir + "/ADDRESS");
    std::string word, addr;
    if (f >> word >> addr && word == "rpc") {
      MasterAddresses a{addr, ""};
      if (f >> word >> addr && word == "http") a.http = addr;
      return a;
    }
    auto done = WaitFor(master.pid, Millis(20));
    if (done.ok()) {
      master.reaped = true;
      master.exit = *done;
      return Status::Unavailable("the master exited at start (" + done->ToString() + ")");
    }
  }
  return Status::Unavailable("the master did not start in time");
}

}  // namespace

int CmdRun(const RunOptions& o) {
  auto spec = MakeJobSpec(o.submit);
  if (!spec.ok()) {
    std::fprintf(stderr, "mr: %s\n", spec.status().message().c_str());
    return kExitUsage;
  }
  if (o.workers < 1) {
    std::fprintf(stderr, "mr: --workers must be at least 1\n");
    return kExitUsage;
  }
  int slots = o.slots > 0 ? o.slots
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / o.workers);

  const char* tmp_root = std::getenv("TMPDIR");
  std::string templ = fmt::format("{}/mr-run-XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
  if (::mkdtemp(templ.data()) == nullptr) {
    std::fprintf(stderr, "mr: cannot create a temporary directory under %s\n", templ.c_str());
    return kExitFailed;
  }
  const std::string dir = templ;
  const std::string logs = dir + "/logs";
  fs::create_directories(logs);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<Child> children;
  const std::string self = SelfExe();
  auto spawn = [&](const std::string& name, std::vector<std::string> argv) -> Status {
    argv.insert(argv.begin(), self);
    auto pid = Spawn(argv, fmt::format("{}/{}.log", logs, name));
    if (!pid.ok()) return pid.status();
    children.push_back(Child{name, *pid, ExitInfo{}, false});
    return Status::OK();
  };

  int code = kExitFailed;
  proto::JobStatus final_status;
  bool have_status = false;
  bool submitted = false;
  bool refused = false;
  // The cluster is the user's own, on this machine, run as the user: user code is allowed.
  std::vector<std::string> token_flags;
  if (!o.token_file.empty()) token_flags = {"--token-file", o.token_file};
  auto with_token = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), token_flags.begin(), token_flags.end());
    return argv;
  };
  Status st = spawn("master", with_token({"master", "--listen", "127.0.0.1:0", "--http", o.http, "--data-dir",
                                          dir + "/master", "--allow-user-code"}));
  Result<MasterAddresses> addr =
      st.ok() ? WaitForMasterAddress(dir + "/master", children[0]) : Result<MasterAddresses>(st);
  if (!addr.ok()) {
    std::fprintf(stderr, "mr: %s (see %s/master.log)\n", addr.status().message().c_str(), logs.c_str());
  } else {
    for (int i = 0; i < o.workers && st.ok(); i++) {
      st = spawn(fmt::format("worker-{}", i),
                 with_token({"worker", "--master", addr->rpc, "--data-dir", fmt::format("{}/worker-{}", dir, i),
                             "--listen", "127.0.0.1:0", "--slots", std::to_string(slots), "--threads",
                             std::to_string(o.threads)}));
    }
    ClientOptions c;
    c.master = *ParseHostPort(addr->rpc);
    c.json = o.json;
    auto token = LoadToken(o.token_file);
    if (token.ok()) c.token = *token;
    int submit_code = kExitFailed;
    auto id = st.ok() ? SubmitJob(c, *spec, &submit_code) : Result<uint64_t>(st);
    if (!st.ok()) {
      std::fprintf(stderr, "mr: %s\n", st.message().c_str());
    } else if (id.ok()) {
      submitted = true;
      if (!o.json) {
        std::printf("running %s with %d workers (%d slots, %d threads each)%s\n", spec->job().c_str(), o.workers,
                    slots, o.threads,
                    addr->http.empty() ? "" : fmt::format("; dashboard http://{}/", addr->http).c_str());
        std::fflush(stdout);
      }
      auto s = WaitForJob(c, *id, &g_interrupted);
      if (s.ok()) {
        final_status = *s;
        have_status = true;
        code = s->state() == proto::JOB_SUCCEEDED ? kExitOk : kExitFailed;
      } else if (g_interrupted) {
        std::fprintf(stderr, "mr: interrupted; stopping the cluster\n");
        code = kExitInterrupted;
      } else {
        std::fprintf(stderr, "mr: %s\n", s.status().message().c_str());
      }
    } else {
      code = submit_code;
      refused = true;  // the request itself was wrong: nothing ran, the logs hold nothing of use
    }
  }

  // Workers first, then the master, each reaped with its peak memory.
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    if (!it->reaped) it->exit = Terminate(it->pid, Millis(5000));
    it->reaped = true;
  }
  if (have_status) PrintSummary(final_status, o.json);
  if (!o.json && !refused) {
    std::string mem;
    for (auto& ch : children) mem += fmt::format("{}{} {}", mem.empty() ? "" : ", ", ch.name, FormatBytes(ch.exit.max_rss_kb * 1024ull));
    std::printf("peak memory: %s\n", mem.c_str());
  }
  std::error_code ec;
  // The job belonged to this run: an unfinished output would only block the next attempt.
  if (submitted && code != kExitOk && !fs::exists(fs::path(spec->output()) / "_SUCCESS", ec)) {
    fs::remove_all(spec->output(), ec);
  }
  if ((code != kExitOk && !refused) || !o.keep_logs.empty()) {
    std::string keep = o.keep_logs.empty() ? fmt::format("{}/mr-logs-{}", fs::path(dir).parent_path().string(), ::getpid())
                                           : o.keep_logs;
    fs::create_directories(keep, ec);
    fs::copy(logs, keep, fs::copy_options::overwrite_existing | fs::copy_options::recursive, ec);
    std::fprintf(stderr, "mr: logs of the master and workers are in %s\n", keep.c_str());
  }
  fs::remove_all(dir, ec);
  return code;
}

}  // namespace mr
