// The client side of the `mr` commands that talk to a running master (DESIGN §2): submit, wait,
// status, jobs, workers, kill; and the progress display shared with `mr run`.
// Exit codes (also in the README): 0 success, 1 the job failed or was killed, or the master refused
// the request (also a wrong token), 2 bad usage, 3 the master cannot be reached, 130 interrupted.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/defaults.h"
#include "common/status.h"
#include "common/units.h"
#include "mr.pb.h"

namespace mr {

class TlsContext;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitInterrupted = 130;

// Lines of a job's output shown after it succeeds (`--show N`; 0 shows none).
constexpr int kDefaultShowLines = 10;

struct ClientOptions {
  HostPort master{kDefaultHost, kDefaultRpcPort};
  bool json = false;
  // The client's credential and TLS settings (common/tls.h); its token may be empty (refused).
  std::shared_ptr<TlsContext> tls;
  // How the command line gave the token, for the follow-up commands it prints ("" when it was
  // $MR_TOKEN or a local master's own): " --token-file FILE".
  std::string token_flag;
};

struct SubmitOptions {
  std::string job;
  std::vector<std::string> inputs;
  std::string output;
  uint32_t reducers = 1;
  std::string split_size;          // SIZE text; empty = the master's default
  std::string input_format;        // "lines", "records:N"; empty = the job's own
  std::vector<std::string> args;   // KEY=VALUE
  std::vector<std::string> cmdenv;  // streaming: --cmdenv NAME=VALUE for the commands' environment
  // --files PATH[#NAME][,...]: shipped with the job into each task's working directory.
  std::vector<std::string> files;
  // Further steps (client/steps.h), each reading the output of the step before; only the last
  // writes --output. The master runs them one after the other, as one pipeline.
  std::vector<std::string> then;
  // streaming: Hadoop's key fields (jobs/key_fields.h), as the properties they set; empty: unset.
  std::string key_fields, field_separator, partition_by, sort_by;
  std::string job_lib;             // a plugin's shared library
  std::string mapper;              // streaming commands
  std::string reducer;
  std::string combiner;
  bool overwrite = false;
  std::string pool;                // empty: the master's default (the submitting user)
  std::string priority;            // high, normal, low; empty = normal
  uint32_t max_slots = 0;          // 0: no limit
  std::string task_memory;         // SIZE text; empty = the worker's default
  std::string task_timeout;        // DURATION text; empty = the worker's default
  uint32_t skip_bad_records = 0;   // plugin and streaming jobs: records a map may skip
  std::string intermediate_codec;  // lz4, zstd, none; empty = lz4 (common/block.h)
  bool wait = false;
  bool quiet = false;               // without --wait: print only the job id
  int show = kDefaultShowLines;     // with --wait: output lines shown at the end
};

// Builds the JobSpec (absolute paths, parsed sizes and arguments); InvalidArgument on bad flags.
Result<proto::JobSpec> MakeJobSpec(const SubmitOptions& o);

// For a plugin job: loads its library here, in the submitting user's own process, and creates its
// job from the spec's arguments, so a bad --arg or a library that cannot load is refused at submit
// (as a built-in job's are) rather than after four failed attempts. A library this machine cannot
// read (it is only on the cluster's nodes) is left to the workers. Other jobs: OK.
Status CheckJobLibrary(const proto::JobSpec& spec);

// Submits; without --wait prints the id and how to follow the job, with --wait follows it as
// CmdWait does.
int CmdSubmit(const ClientOptions& c, const SubmitOptions& o);
// Follows a job until it ends (at once for a finished one) with the progress display, then prints
// the summary and the first `show` lines of its output. Exit 0 when it succeeded, 1 when it failed
// or was killed (or is unknown), 130 on Ctrl-C (the job keeps running; the message says how to
// re-attach), 3 when the master cannot be reached.
int CmdWait(const ClientOptions& c, const std::string& job, int show);
// One job's status; with `follow`, the progress display first, until the job ends.
int CmdStatus(const ClientOptions& c, const std::string& job, bool follow);
int CmdJobs(const ClientOptions& c);
// all: also the workers lost recently.
int CmdWorkers(const ClientOptions& c, bool all = false);
// The logs of a job's attempts; task is "", map, reduce, map/N or reduce/N; attempt 0 = every one.
int CmdLogs(const ClientOptions& c, const std::string& job, const std::string& task, uint32_t attempt);
int CmdKill(const ClientOptions& c, const std::string& job);

// Submits `spec` and returns the job id; on failure prints the error and sets *exit_code.
Result<uint64_t> SubmitJob(const ClientOptions& c, const proto::JobSpec& spec, int* exit_code);
// Polls the job until it ends, drawing progress on stdout (with c.json: JSON lines on stderr);
// returns its final status. Stops early (Aborted) when *interrupted becomes true, or with the
// status `can_finish` returns once that is not OK (`mr run`: its cluster is gone). Reconnects if
// the master connection breaks.
Result<proto::JobStatus> WaitForJob(const ClientOptions& c, uint64_t job_id, const std::atomic<bool>* interrupted,
                                    const std::function<Status()>& can_finish = nullptr);
// The closing summary: state, times, counters.
void PrintSummary(const proto::JobStatus& s, bool json);

// WaitForJob over a pipeline (mr submit --then): follows job `job_id` and each next step as the
// master submits it, until the last ends. Returns the last step's status: the pipeline failed if
// it did not succeed (a step that could not be submitted: failed, with why). `on_step` is told of
// each step that succeeded with another after it.
Result<proto::JobStatus> WaitForPipeline(const ClientOptions& c, uint64_t job_id, const std::atomic<bool>* interrupted,
                                         const std::function<Status()>& can_finish = nullptr,
                                         const std::function<void(const proto::JobStatus&)>& on_step = nullptr);

}  // namespace mr
