// Helpers for integration tests (the library mr_test_util): running the mr binary as a real
// process, a local cluster of real master and worker processes on loopback, what `mr status
// --json` says, reading a job's output, and the independent reference implementations in
// tests/reference/. Temporary directories are common/temp_dir_testing.h's TempDir.
// Every process a helper starts is reaped by it. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/temp_dir_testing.h"

namespace mr::testing {

std::string MrBinary();          // $MR_BIN (set by CTest)
std::string SourceDir();         // $MR_SOURCE_DIR
std::string GutenbergDir();      // ../shared/data/gutenberg beside the checkout; "" when absent

struct CommandResult {
  int exit_code = -1;            // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};
// Runs argv (argv[0] is a path) and waits for it, at most `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(300));
// Runs `mr ARGS...`.
CommandResult RunMr(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(300));

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// Polls the file at `path` until it holds `text` at least `times` times, or `timeout` passes;
// returns whether it did. (A process's log line is how a test waits for what it did.)
bool WaitForText(const std::string& path, const std::string& text, size_t times = 1,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));
// How many times `part` occurs in `text`.
// True when `text` holds `part`.
inline bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
size_t CountOf(const std::string& text, const std::string& part);

// The job's output: the concatenation of its part files in order. Fails the test if the directory
// holds anything but part-r-NNNNN files (exactly `reducers` of them) and _SUCCESS.
std::string ReadJobOutput(const std::string& dir, int reducers);
// Sorted lines of text (bytewise), joined again.
std::string SortLines(const std::string& text);

// python3 tests/reference/wordcount.py [--lowercase] FILES...
std::string ReferenceWordCount(const std::vector<std::string>& files, bool lowercase = false);

// The fields of `mr status JOB --json` that tests look at.
// What `mr status JOB --json` says: the one parser of it, for the loopback and multihost clusters.
struct JobState {
  bool answered = false;  // the master answered with a job
  std::string state;      // queued, running, succeeded, failed, killed ("" if unknown)
  int maps_done = 0, maps_total = 0, reduces_done = 0, reduces_total = 0;
  std::string error;
  std::string json;       // the whole answer
  // A built-in or user counter; -1 when the job has none of that name.
  int64_t Counter(const std::string& name) const;
  bool Ended() const { return state == "succeeded" || state == "failed" || state == "killed"; }
  bool InMapPhase() const { return maps_total > 0 && maps_done >= 1 && maps_done < maps_total; }
  bool InReducePhase() const { return maps_total > 0 && maps_done == maps_total && reduces_done < reduces_total; }
  std::string Summary() const;  // "running maps 2/5 reduces 0/3", and " error: ..." if any
};
// Parses the output of `mr status JOB --json` (answered is false when it is not a job's status).
JobState ParseJobState(const std::string& json_text);

// A tiny HTTP/1.1 client for the master's dashboard port: one request per connection.
struct HttpResult {
  int status = 0;    // 0 when there was no well-formed answer
  std::string head;  // status line and headers
  std::string body;
  std::string Header(const std::string& name) const;  // "" when absent
};
HttpResult Http(const std::string& address, const std::string& path, const std::string& method = "GET",
                const std::string& bearer = "");
// GET of a JSON page; a failed expectation (and an empty object) unless it answers 200 with JSON.
nlohmann::json GetJson(const std::string& address, const std::string& path, const std::string& bearer = "");

// A master and workers as real processes on loopback, each with its own data dir under `root`.
// Processes get `env` entries ("K=V", e.g. MR_FAILPOINTS) added to their environment.
class Cluster {
 public:
  explicit Cluster(const std::string& root) : root_(root) {}
  ~Cluster();
  Status StartMaster(const std::vector<std::string>& extra_flags = {},
                     const std::vector<std::string>& env = {});
  // Starts the master again on the same address and data dir (after KillMaster).
  Status RestartMaster(const std::vector<std::string>& env = {});
  // `wrapper` goes before the command line (e.g. {"prlimit", "--fsize=65536", "--"}). A worker of
  // a master started with --allow-user-code gets it too.
  Status StartWorker(const std::vector<std::string>& extra_flags = {},
                     const std::vector<std::string>& env = {}, const std::vector<std::string>& wrapper = {});
  // Waits until the master lists `n` live workers.
  Status WaitForWorkers(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  const std::string& master_address() const { return master_address_; }
  pid_t master_pid() const { return master_; }  // -1 when not running
  // The master's dashboard/API/metrics address (the "http" line of its ADDRESS file). The master
  // gets --http 127.0.0.1:0 unless its flags name another.
  const std::string& http_address() const { return http_address_; }
  size_t workers() const { return workers_.size(); }
  void SignalWorker(size_t i, int sig);
  // Starts a new process on worker i's data dir (after it died), with the same flags and `env`.
  Status RestartWorker(size_t i, const std::vector<std::string>& env = {});
  std::string WorkerDataDir(size_t i) const { return workers_.at(i).dir; }
  void KillMaster();  // SIGKILL, reaped
  // Reaps workers that exited; returns how many. With restart, starts a fresh one in each's place
  // (same flags, env from `env_for(restarts so far)`).
  int ReapWorkers(bool restart, const std::vector<std::string>& env = {});
  bool MasterAlive();
  JobState Job(uint64_t id);
  // Polls the job until it ends (or the timeout); `each_poll` runs between polls (to inject
  // faults or restart processes).
  JobState WaitForJob(uint64_t id, std::chrono::milliseconds timeout,
                      const std::function<void(const JobState&)>& each_poll = nullptr);
  void StopAll();

 private:
  struct Proc {
    pid_t pid = -1;
    std::vector<std::string> flags;
    bool alive = false;
    std::string dir;
  };
  Result<pid_t> SpawnWorker(const std::string& dir, const std::string& log, const std::vector<std::string>& flags,
                            const std::vector<std::string>& env, const std::vector<std::string>& wrapper);
  std::string root_;
  std::string master_address_;
  std::string http_address_;
  std::vector<std::string> master_flags_;
  pid_t master_ = -1;
  std::vector<Proc> workers_;
  int started_workers_ = 0;
};

}  // namespace mr::testing
