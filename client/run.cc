#include "client/run.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <thread>

#include "client/interrupt.h"
#include "client/output.h"
#include "client/steps.h"
#include "client/tls_setup.h"
#include "common/credentials.h"
#include "common/defaults.h"
#include "common/output_layout.h"
#include "jobs/job.h"
#include "common/process.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

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
  while (std::chrono::steady_clock::now() < deadline && !CatchInterrupts()->load()) {
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

// Whether the run's cluster can still finish a job: not once its master, or every worker, has
// exited (a child found exited is reaped here and its exit kept for the memory line).
Status ClusterCanFinish(std::vector<Child>& children) {
  size_t workers = 0;
  std::vector<std::string> gone;
  for (Child& ch : children) {
    if (!ch.reaped) {
      auto done = WaitFor(ch.pid, Millis(0));
      if (done.ok()) {
        ch.reaped = true;
        ch.exit = *done;
      }
    }
    const bool master = ch.name == "master";
    if (ch.reaped && master) {
      return Status::Unavailable(fmt::format("the master exited ({}); the job cannot finish", ch.exit.ToString()));
    }
    if (master) continue;
    workers++;
    if (ch.reaped) gone.push_back(fmt::format("{} {}", ch.name, ch.exit.ToString()));
  }
  if (workers == 0 || gone.size() < workers) return Status::OK();
  return Status::Unavailable(fmt::format("every worker exited ({}); the job cannot finish", fmt::join(gone, ", ")));
}

}  // namespace

int CmdRun(const RunOptions& o) {
  auto first = MakeJobSpec(o.submit);
  if (!first.ok()) {
    std::fprintf(stderr, "mr: %s\n", first.status().message().c_str());
    return kExitUsage;
  }
  if (o.workers < 1) {
    std::fprintf(stderr, "mr: --workers must be at least 1\n");
    return kExitUsage;
  }
  int slots = o.slots > 0 ? o.slots : std::max(1, DefaultWorkerSlots() / o.workers);

  const char* tmp_root = std::getenv("TMPDIR");
  std::string templ = fmt::format("{}/mr-run-XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
  if (::mkdtemp(templ.data()) == nullptr) {
    std::fprintf(stderr, "mr: cannot create a temporary directory under %s\n", templ.c_str());
    return kExitFailed;
  }
  const std::string dir = templ;
  const std::string logs = dir + "/logs";
  fs::create_directories(logs);
  std::error_code exists_ec;
  Status refused_here = CheckJobLibrary(*first);
  if (refused_here.ok()) refused_here = CheckSteps(*first, o.submit.then);
  if (!refused_here.ok()) {
    std::fprintf(stderr, "mr: %s\n", refused_here.message().c_str());
    fs::remove_all(dir, exists_ec);
    return kExitFailed;
  }
  const proto::JobSpec* spec = &*first;  // its output is the user's (the last step's, in a pipeline)
  const int steps = 1 + first->then_size();

  const std::atomic<bool>* interrupted = CatchInterrupts();

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
  // The cluster is the user's own, on this machine, run as the user: user code is allowed, and it
  // serves no one else: without a token of the user's, one is made for this run and kept in the
  // run's directory (mode 0700, like every mkdtemp directory).
  std::string token_file = o.token_file;
  if (token_file.empty() && std::getenv("MR_TOKEN") == nullptr) {
    token_file = dir + "/token";
    auto t = NewToken("");
    Status written = t.ok() ? WriteSecretFile(token_file, TokenText(*t) + "\n", /*exclusive=*/true) : t.status();
    if (!written.ok()) {
      std::fprintf(stderr, "mr: %s\n", written.message().c_str());
      fs::remove_all(dir, exists_ec);
      return kExitFailed;
    }
  }
  std::vector<std::string> token_flags;
  if (!token_file.empty()) token_flags = {"--token-file", token_file};
  auto with_token = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), token_flags.begin(), token_flags.end());
    return argv;
  };
  Status st = spawn("master", with_token({"master", "--listen", "127.0.0.1:0", "--http", o.http, "--data-dir",
                                          dir + "/master", "--allow-user-code"}));
  std::string dashboard;       // its address, as printed
  std::string kept_dashboard;  // with --keep-dashboard: with the run's token, for the job's output
  Result<MasterAddresses> addr =
      st.ok() ? WaitForMasterAddress(dir + "/master", children[0]) : Result<MasterAddresses>(st);
  if (!addr.ok()) {
    std::fprintf(stderr, "mr: %s (see %s/master.log)\n", addr.status().message().c_str(), logs.c_str());
  } else {
    for (int i = 0; i < o.workers && st.ok(); i++) {
      st = spawn(fmt::format("worker-{}", i),
                 with_token({"worker", "--master", addr->rpc, "--data-dir", fmt::format("{}/worker-{}", dir, i),
                             "--listen", "127.0.0.1:0", "--slots", std::to_string(slots), "--threads",
                             std::to_string(o.threads), "--allow-user-code"}));
    }
    ClientOptions c;
    c.master = *ParseHostPort(addr->rpc);
    c.json = o.json;
    std::string ignored;
    auto tls = ClientTls(token_file, c.master, &ignored);
    // The run's own token rides in the address's fragment (never sent to the server; the page keeps
    // it in the tab), so its dashboard shows the job's output to the user who started it.
    if (!addr->http.empty()) {
      dashboard = fmt::format("http://{}/", addr->http);
      kept_dashboard = dashboard;
      if (tls.ok() && token_file != o.token_file && !(*tls)->options().token.empty()) {
        kept_dashboard += "#token=" + TokenText((*tls)->options().token);
      }
    }
    if (tls.ok()) c.tls = *tls;
    if (!o.token_file.empty()) c.token_flag = " --token-file " + o.token_file;
    if (!st.ok()) std::fprintf(stderr, "mr: %s\n", st.message().c_str());
    // One submission; the master runs a pipeline's steps one after the other.
    auto says_running = [&](int step, const std::string& job) {
      if (o.json) return;
      std::string which = steps > 1 ? fmt::format("step {}/{}: ", step, steps) : "";
      std::string what = job.empty() || job == "streaming" ? "a streaming job" : job;
      std::printf("%srunning %s with %s (%s, %s each)%s\n", which.c_str(), what.c_str(),
                  Counted(o.workers, "worker").c_str(), Counted(slots, "slot").c_str(),
                  Counted(o.threads, "thread").c_str(),
                  addr->http.empty() ? "" : fmt::format("; dashboard {}", dashboard).c_str());
      std::fflush(stdout);
    };
    int submit_code = kExitFailed;
    auto id = st.ok() ? SubmitJob(c, *first, &submit_code) : Result<uint64_t>(st);
    if (!st.ok()) {
      // The cluster did not start: said above.
    } else if (!id.ok()) {
      code = submit_code;
      refused = true;  // the request itself was wrong: nothing ran, the logs hold nothing of use
    } else {
      submitted = true;
      says_running(1, first->job());
      int step = 1;
      auto s = WaitForPipeline(c, *id, interrupted, [&] { return ClusterCanFinish(children); },
                               [&](const proto::JobStatus& done) {
                                 if (!o.json) PrintSummary(done, false);
                                 says_running(++step, done.spec().then(0).job());
                               });
      if (s.ok()) {
        final_status = *s;
        have_status = true;
        code = s->state() == proto::JOB_SUCCEEDED ? kExitOk : kExitFailed;
      } else if (*interrupted) {
        std::fprintf(stderr, "mr: interrupted; stopping the cluster\n");
        code = kExitInterrupted;
      } else {
        std::fprintf(stderr, "mr: %s\n", s.status().message().c_str());
      }
    }
  }

  if (o.keep_dashboard && have_status && !*interrupted && addr.ok() && !addr->http.empty()) {
    PrintSummary(final_status, o.json);
    have_status = false;
    std::fprintf(stderr, "mr: the dashboard stays at %s until Ctrl-C\n", kept_dashboard.c_str());
    while (!*interrupted) std::this_thread::sleep_for(Millis(200));
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
  if (have_status && !o.json && code == kExitOk) PrintOutputPreview(spec->output(), o.show, stdout);
  std::error_code ec;
  // The job belonged to this run: an unfinished output would only block the next attempt.
  if (submitted && code != kExitOk && !fs::exists(fs::path(spec->output()) / "_SUCCESS", ec)) {
    fs::remove_all(spec->output(), ec);
  }
  // A pipeline stopped half way (the cluster is gone) leaves the outputs its steps kept aside.
  for (int i = 1; submitted && i < steps; i++) fs::remove_all(PipelineStepOutput(spec->output(), i), ec);
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
