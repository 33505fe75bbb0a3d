#include "client/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <thread>

#include "client/commands.h"
#include "client/report.h"
#include "client/run.h"
#include "common/address.h"
#include "client/tera.h"
#include "common/auth.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "jobs/job.h"
#include "master/master.h"
#include "worker/worker.h"

namespace mr {
namespace {

// Parses a flag value or prints the error; false means exit with kExitUsage.
template <class T>
bool Parse(const Result<T>& r, const char* flag, T* out) {
  if (!r.ok()) {
    std::fprintf(stderr, "mr: %s: %s\n", flag, r.status().message().c_str());
    return false;
  }
  *out = r.value();
  return true;
}

void AddSubmitFlags(CLI::App* cmd, SubmitOptions* o) {
  cmd->add_option("--job", o->job, fmt::format("job name ({}), or a plugin's name with --job-lib",
                                                fmt::join(JobNames(), ", ")));
  cmd->add_option("--job-lib", o->job_lib, "run the job of this plugin library (see jobs/public/mr/job_api.h)");
  cmd->add_option("--mapper", o->mapper, "streaming: mapper shell command (lines in, key<TAB>value lines out)");
  cmd->add_option("--reducer", o->reducer, "streaming: reducer shell command (default: identity)");
  cmd->add_option("--combiner", o->combiner, "streaming: combiner shell command, run on each map-side spill");
  cmd->add_option("--input", o->inputs, "input files, directories or globs")->required();
  cmd->add_option("--output", o->output, "output directory (must not exist)")->required();
  cmd->add_option("--reducers", o->reducers, "number of reduce tasks")->capture_default_str();
  cmd->add_option("--split-size", o->split_size, "input split size, e.g. 64m (default 64m)");
  cmd->add_option("--input-format", o->input_format,
                  "lines, or records:N for fixed N-byte records (default: the job's own; terasort reads records:100)");
  cmd->add_option("--arg", o->args, "job argument KEY=VALUE (repeatable)");
  cmd->add_flag("--overwrite", o->overwrite, "replace the output directory if it exists");
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"mr: a fault-tolerant distributed MapReduce engine", "mr"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");

  std::string log_level = "info", log_file;
  app.footer(
      "Exit codes: 0 success; 1 the job failed, or the master refused the request (unknown job, missing\n"
      "input, existing output, bad --arg); 2 bad usage; 3 the master cannot be reached; 130 interrupted.");
  ClientOptions client;
  std::string master_addr = "127.0.0.1:7070";
  std::string token_file;
  auto add_token_flag = [&](CLI::App* cmd) {
    cmd->add_option("--token-file", token_file,
                    "file holding the cluster token (mode 600; default: $MR_TOKEN; none: loopback only)");
  };
  auto add_client_flags = [&](CLI::App* cmd) {
    cmd->add_option("--master", master_addr, "master address HOST:PORT")->capture_default_str();
    add_token_flag(cmd);
    cmd->add_flag("--json", client.json, "machine-readable output");
  };

  // mr master
  auto* master_cmd = app.add_subcommand("master", "run the master");
  std::string m_listen = "127.0.0.1:7070", m_http = "127.0.0.1:7071", m_dir, m_timeout = "10s";
  master_cmd->add_option("--listen", m_listen, "RPC address HOST:PORT (port 0 = any)")->capture_default_str();
  master_cmd->add_option("--http", m_http, "dashboard, JSON API and metrics address HOST:PORT (port 0 = any)")
      ->capture_default_str();
  master_cmd->add_option("--data-dir", m_dir, "where the job journal lives")->required();
  master_cmd->add_option("--worker-timeout", m_timeout, "a worker silent this long is dead")->capture_default_str();
  master_cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  master_cmd->add_option("--log-file", log_file, "also append the log to this file");
  bool m_allow_user_code = false;
  master_cmd->add_flag("--allow-user-code", m_allow_user_code,
                       "accept streaming (--mapper) and plugin (--job-lib) jobs: they run arbitrary code on the workers");
  add_token_flag(master_cmd);

  // mr worker
  auto* worker_cmd = app.add_subcommand("worker", "run a worker");
  std::string w_master = "127.0.0.1:7070", w_dir, w_listen = "127.0.0.1:0", w_hb = "1s", w_buffer = "256m";
  int w_slots = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), w_threads = 1;
  int w_merge_factor = 0;
  worker_cmd->add_option("--master", w_master, "master address HOST:PORT")->capture_default_str();
  worker_cmd->add_option("--data-dir", w_dir, "where intermediate data lives")->required();
  worker_cmd->add_option("--listen", w_listen, "shuffle server address (port 0 = any)")->capture_default_str();
  std::string w_advertise;
  worker_cmd->add_option("--advertise", w_advertise,
                         "the host other machines reach this worker by (default: the --listen host, or for a "
                         "wildcard listen this machine's address on its connection to the master)");
  worker_cmd->add_option("--slots", w_slots, "tasks run at once")->capture_default_str()->check(CLI::Range(1, 1024));
  worker_cmd->add_option("--threads", w_threads, "threads per map task")->capture_default_str()->check(CLI::Range(1, 256));
  worker_cmd->add_option("--heartbeat", w_hb, "heartbeat period")->capture_default_str();
  worker_cmd->add_option("--map-buffer", w_buffer, "map output memory per task before spilling")->capture_default_str();
  worker_cmd->add_option("--merge-factor", w_merge_factor,
                         "most map outputs a reduce task merges at once; more are merged in passes "
                         "(0 = the open-file limit / 16, within 8..128)")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  worker_cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  worker_cmd->add_option("--log-file", log_file, "also append the log to this file");
  add_token_flag(worker_cmd);

  // mr submit
  auto* submit_cmd = app.add_subcommand("submit", "submit a job to a running master");
  SubmitOptions submit;
  AddSubmitFlags(submit_cmd, &submit);
  submit_cmd->add_flag("--wait", submit.wait, "show progress and wait for the job to end");
  add_client_flags(submit_cmd);

  // mr status / jobs / workers / kill
  std::string job_id;
  auto* status_cmd = app.add_subcommand("status", "show one job");
  status_cmd->add_option("JOB", job_id, "job id")->required();
  add_client_flags(status_cmd);
  auto* jobs_cmd = app.add_subcommand("jobs", "list jobs");
  add_client_flags(jobs_cmd);
  auto* workers_cmd = app.add_subcommand("workers", "list live workers");
  add_client_flags(workers_cmd);
  auto* kill_cmd = app.add_subcommand("kill", "cancel a job");
  kill_cmd->add_option("JOB", job_id, "job id")->required();
  add_client_flags(kill_cmd);

  // mr run
  auto* run_cmd = app.add_subcommand("run", "run one job on a local cluster started for it");
  RunOptions run;
  AddSubmitFlags(run_cmd, &run.submit);
  run_cmd->add_option("--workers", run.workers, "worker processes")->capture_default_str()->check(CLI::Range(1, 64));
  run_cmd->add_option("--slots", run.slots, "tasks at once per worker (default cores/workers)");
  run_cmd->add_option("--threads", run.threads, "threads per map task")->capture_default_str()->check(CLI::Range(1, 256));
  run_cmd->add_option("--keep-logs", run.keep_logs, "copy the processes' logs to this directory");
  run_cmd->add_option("--http", run.http, "the master's dashboard address HOST:PORT (port 0 = any)")
      ->capture_default_str();
  run_cmd->add_flag("--json", run.json, "machine-readable summary");
  run_cmd->add_option("--then", run.then,
                      "a further step \"JOB [KEY=VALUE]...\" over the previous step's output, one reducer "
                      "(repeatable), e.g. --then 'topn n=10'");
  add_token_flag(run_cmd);

  // mr teragen / teravalidate
  auto* teragen_cmd = app.add_subcommand("teragen", "write TeraSort input (gensort layout) on a local cluster");
  TeraGenOptions tg;
  teragen_cmd->add_option("ROWS", tg.rows, "number of 100-byte rows (digits, or with k, m, g: 10m = 10,000,000)")->required();
  teragen_cmd->add_option("DIR", tg.dir, "output directory (must not exist)")->required();
  teragen_cmd->add_flag("--ascii", tg.ascii, "printable keys and CRLF rows (gensort -a)");
  teragen_cmd->add_option("--parts", tg.parts, "output files (default 2 per worker)")->check(CLI::Range(1, 100000));
  teragen_cmd->add_option("--workers", tg.run.workers, "worker processes")->capture_default_str()->check(CLI::Range(1, 64));
  teragen_cmd->add_option("--keep-logs", tg.run.keep_logs, "copy the processes' logs to this directory");
  teragen_cmd->add_flag("--overwrite", tg.run.submit.overwrite, "replace DIR if it exists");
  add_token_flag(teragen_cmd);
  auto* teravalidate_cmd = app.add_subcommand("teravalidate", "check the order and checksum of a terasort output");
  TeraValidateOptions tv;
  teravalidate_cmd->add_option("DIR", tv.dir, "the sorted output")->required();
  teravalidate_cmd->add_option("--input", tv.inputs, "the input that was sorted: check the output holds its records");
  teravalidate_cmd->add_flag("--json", tv.json, "machine-readable output");
  // mr report
  auto* report_cmd = app.add_subcommand("report", "render a weblog job's output: terminal summary, JSON or HTML");
  ReportOptions report;
  report_cmd->add_option("OUT", report.output, "the output directory of a --job weblog run")->required();
  report_cmd->add_flag("--json", report.json, "GoAccess-compatible JSON on stdout");
  report_cmd->add_option("--html", report.html, "write one self-contained HTML page to this file");
  report_cmd->add_option("--top", report.top, "entries shown per panel")->capture_default_str()->check(
      CLI::Range(1, 100000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "mr: %s (see mr %s--help)\n", e.what(),
                 app.get_subcommands().empty() ? "" : (app.get_subcommands()[0]->get_name() + " ").c_str());
    return kExitUsage;
  }

  if (!Parse(ParseHostPort(master_addr), "--master", &client.master)) return kExitUsage;
  auto loaded = LoadToken(token_file);
  if (!loaded.ok()) return std::fprintf(stderr, "mr: %s\n", loaded.status().message().c_str()), kExitUsage;
  const std::string token = *loaded;
  client.token = token;

  if (master_cmd->parsed()) {
    MasterOptions mo;
    std::chrono::milliseconds timeout;
    if (!Parse(ParseHostPort(m_listen), "--listen", &mo.listen) || !Parse(ParseHostPort(m_http), "--http", &mo.http) ||
        !Parse(ParseDuration(m_timeout), "--worker-timeout", &timeout)) {
      return kExitUsage;
    }
    mo.worker_timeout = timeout;
    mo.data_dir = m_dir;
    mo.token = token;
    mo.allow_user_code = m_allow_user_code;
    for (auto [host, flag] : {std::pair{mo.listen.host, "--listen"}, std::pair{mo.http.host, "--http"}}) {
      Status bind = CheckBindAllowed(host, token, flag);
      if (!bind.ok()) return std::fprintf(stderr, "mr master: %s\n", bind.message().c_str()), kExitUsage;
    }
    Status s = InitLogging("master", log_level, log_file);
    if (s.ok()) s = ConfigureFailpointsFromEnv();
    if (!s.ok()) return std::fprintf(stderr, "mr: %s\n", s.message().c_str()), kExitUsage;
    s = RunMaster(mo);
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      return kExitFailed;
    }
    return kExitOk;
  }
  if (worker_cmd->parsed()) {
    WorkerOptions wo;
    uint64_t buffer;
    if (!Parse(ParseHostPort(w_master), "--master", &wo.master) || !Parse(ParseHostPort(w_listen), "--listen", &wo.listen) ||
        !Parse(ParseDuration(w_hb), "--heartbeat", &wo.heartbeat) || !Parse(ParseSize(w_buffer), "--map-buffer", &buffer)) {
      return kExitUsage;
    }
    wo.data_dir = w_dir;
    wo.token = token;
    wo.advertise = w_advertise;
    if (!wo.advertise.empty()) {
      // A bare IPv6 address or a name; brackets are accepted and dropped.
      if (wo.advertise.front() == '[' && wo.advertise.back() == ']') wo.advertise = wo.advertise.substr(1, wo.advertise.size() - 2);
      if (IsWildcardHost(wo.advertise)) {
        return std::fprintf(stderr, "mr worker: --advertise %s is a wildcard: give an address other hosts can reach\n",
                            w_advertise.c_str()), kExitUsage;
      }
    }
    Status bind = CheckBindAllowed(wo.listen.host, token, "--listen");
    if (!bind.ok()) return std::fprintf(stderr, "mr worker: %s\n", bind.message().c_str()), kExitUsage;
    wo.slots = w_slots;
    wo.threads = w_threads;
    wo.map_buffer_bytes = buffer;
    wo.merge_factor = w_merge_factor;
    Status s = InitLogging("worker", log_level, log_file);
    if (s.ok()) s = ConfigureFailpointsFromEnv();
    if (!s.ok()) return std::fprintf(stderr, "mr: %s\n", s.message().c_str()), kExitUsage;
    s = RunWorker(wo);
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      return kExitFailed;
    }
    return kExitOk;
  }
  if (report_cmd->parsed()) return CmdReport(report);
  if (submit_cmd->parsed()) return CmdSubmit(client, submit);
  if (status_cmd->parsed()) return CmdStatus(client, job_id);
  if (jobs_cmd->parsed()) return CmdJobs(client);
  if (workers_cmd->parsed()) return CmdWorkers(client);
  if (kill_cmd->parsed()) return CmdKill(client, job_id);
  if (teragen_cmd->parsed()) {
    tg.run.token_file = token_file;
    return CmdTeraGen(tg);
  }
  if (teravalidate_cmd->parsed()) return CmdTeraValidate(tv);
  if (run_cmd->parsed()) {
    run.token_file = token_file;
    return CmdRun(run);
  }
  return kExitUsage;
}

}  // namespace mr
