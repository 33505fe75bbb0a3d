#include "client/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <thread>

#include "client/commands.h"
#include "client/help.h"
#include "client/output.h"
#include "client/report.h"
#include "client/run.h"
#include "client/streaming_cli.h"
#include "client/suggest.h"
#include "client/tls_setup.h"
#include "client/tera.h"
#include "common/address.h"
#include "common/credentials.h"
#include "common/defaults.h"
#include "common/tls.h"
#include "common/failpoint.h"
#include "common/fd_limit.h"
#include "common/log.h"
#include "jobs/job.h"
#include "jobs/job_args.h"
#include "master/master.h"
#include "worker/worker.h"

namespace mr {
namespace {

// The flags several commands share, filled by the parser, read when the chosen command runs.
struct Shared {
  std::string master = kDefaultMasterAddress;
  std::string token_file;
  std::string tls_cert, tls_key, tls_ca;  // mr master and mr worker
  std::string log_level = "info";
  std::string log_file;
  bool json = false;
};

// What a command's action gets: the shared flags, checked and resolved.
struct Context {
  ClientOptions client;    // master address, token, --json
  std::string token_file;  // as given ("" = $MR_TOKEN or none)
  const Shared* shared;
};

using Action = std::function<int(const Context&)>;

// Which of the shared flags a command takes.
enum class Takes { kNothing, kToken, kClient };

// One `mr` command: its name, one line of help, the shared flags it takes, and `define`, which adds
// its own flags to `cmd` and returns what runs when it is chosen (the flags' storage lives in the
// action's captures).
struct Command {
  const char* name;
  const char* help;
  Takes takes;
  Action (*define)(CLI::App* cmd, Shared* shared);
};

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

TlsFileOptions TlsFiles(const Shared& shared) { return {shared.tls_cert, shared.tls_key, shared.tls_ca}; }

// The token of `mr master` or `mr worker` (`who`): --token-file or $MR_TOKEN, which must be the
// cluster's, not a user's; empty when none was given.
Result<Token> ServerToken(const Shared& shared, const char* who) {
  auto token = LoadToken(shared.token_file);
  if (token.ok() && token->kind == Token::Kind::kUser) {
    return Status::InvalidArgument(
        fmt::format("the token is a user's (NAME:SECRET): a {} needs the cluster token", who));
  }
  return token;
}

void AddTlsFlags(CLI::App* cmd, Shared* shared) {
  cmd->add_option("--tls-cert", shared->tls_cert,
                  "PKI instead of the token for the cluster: this process's certificate (PEM; with --tls-key, --tls-ca)");
  cmd->add_option("--tls-key", shared->tls_key, "its private key (PEM, mode 600)");
  cmd->add_option("--tls-ca", shared->tls_ca, "the CA that signs every master's and worker's certificate (PEM)");
}

void AddLogFlags(CLI::App* cmd, Shared* shared) {
  cmd->add_option("--log-level", shared->log_level, "trace, debug, info, warn, error")->capture_default_str();
  cmd->add_option("--log-file", shared->log_file, "also append the log to this file");
}

// The tail of `mr master` and `mr worker`: logging, failpoints, then the server until it stops.
int RunServer(const char* role, const Shared& shared, const std::function<Status()>& run) {
  Status s = InitLogging(role, shared.log_level, shared.log_file);
  if (s.ok()) s = ConfigureFailpointsFromEnv();
  if (!s.ok()) return std::fprintf(stderr, "mr: %s\n", s.message().c_str()), kExitUsage;
  spdlog::info("{}", FdLimitText());
  s = run();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return kExitFailed;
  }
  return kExitOk;
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
  cmd->add_option("--reducers", o->reducers, "number of reduce tasks (0: a map-only job, its maps write the output)")->capture_default_str();
  cmd->add_option("--split-size", o->split_size, "input split size, e.g. 64m (default 64m)");
  cmd->add_option("--input-format", o->input_format,
                  "lines, or records:N for fixed N-byte records (default: the job's own; terasort reads records:100)");
  cmd->add_option("-D,--arg", o->args,
                  "job argument KEY=VALUE (repeatable; mr help JOB lists a job's); for streaming jobs a property, "
                  "exported to the commands as Hadoop's -D is");
  cmd->add_option("--cmdenv", o->cmdenv, "streaming: an environment variable NAME=VALUE for the commands (repeatable)");
  cmd->add_option("--then", o->then,
                  "a further step \"JOB [KEY=VALUE]...\" or streaming \"mapper=CMD [reducer=CMD] [KEY=VALUE]...\" "
                  "over the previous step's output, one reducer (repeatable), run by the master when the step "
                  "before succeeds, e.g. --then 'topn n=10' or --then \"mapper=cat reducer='sort -k2,2nr | head -1'\"");
  cmd->add_option("--files", o->files,
                  "streaming and plugin jobs: files PATH[#NAME][,...] shipped with the job; each task runs in a "
                  "directory holding them (repeatable)");
  cmd->add_option("--key-fields", o->key_fields, "streaming: the map output key is a line's first N fields (default 1)");
  cmd->add_option("--field-separator", o->field_separator,
                  "streaming: the character separating those fields, and a key's own fields (default TAB)");
  cmd->add_option("--partition-by", o->partition_by,
                  "streaming: the key fields that pick a key's reducer, e.g. 'k1,1' (sort's -k grammar)");
  cmd->add_option("--sort-by", o->sort_by,
                  "streaming: the order of keys, e.g. 'k1,1 k2,2nr' (fields from 1; n numeric, r reverse)");
  cmd->add_flag("--overwrite", o->overwrite, "replace the output directory if it exists");
  cmd->add_option("--pool", o->pool, "the pool the job shares the cluster in (default: your user name)");
  cmd->add_option("--priority", o->priority, "high, normal or low: the job's order among its pool's jobs")
      ->check(CLI::IsMember({"high", "normal", "low"}));
  cmd->add_option("--max-slots", o->max_slots, "the most slots the job may hold at once (default: no limit)");
  cmd->add_option("--intermediate-codec", o->intermediate_codec,
                  "how map output is compressed in the store and on the wire: lz4 (default), zstd (smaller, "
                  "more CPU) or none")
      ->check(CLI::IsMember({"lz4", "zstd", "none"}));
  cmd->add_option("--task-memory", o->task_memory,
                  "plugin and streaming jobs: data memory each task process may use, e.g. 512m (default: the worker's)");
  cmd->add_option("--task-timeout", o->task_timeout,
                  "plugin and streaming jobs: a task that makes no progress this long is killed, e.g. 30s "
                  "(default: the worker's, 10m)");
  cmd->add_option("--skip-bad-records", o->skip_bad_records,
                  "plugin and streaming jobs: input records each map may skip after its code failed on them; skipped records "
                  "are kept in OUTPUT/_skipped/ (default 0: a failure on a record is a failure)");
}

Action DefineMaster(CLI::App* cmd, Shared* shared) {
  struct Flags {
    std::string listen = kDefaultMasterAddress, http = kDefaultHttpAddress, dir, timeout = "10s", history_age = "168h";
    std::string preempt_after = "30s";
    size_t history_jobs = 200;
    bool allow_user_code = false;
    std::vector<std::string> allow_input, allow_output;
    std::string users, http_cert, http_key, pools;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--listen", f->listen, "RPC address HOST:PORT (port 0 = any)")->capture_default_str();
  cmd->add_option("--http", f->http, "dashboard, JSON API and metrics address HOST:PORT (port 0 = any)")
      ->capture_default_str();
  cmd->add_option("--data-dir", f->dir, "where the job journal lives")->required();
  cmd->add_option("--worker-timeout", f->timeout, "a worker silent this long is dead")->capture_default_str();
  cmd->add_option("--history-jobs", f->history_jobs, "finished jobs kept with their tasks and logs (the oldest go)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_option("--history-age", f->history_age, "finished jobs older than this are forgotten (0: never)")
      ->capture_default_str();
  AddLogFlags(cmd, shared);
  cmd->add_flag("--allow-user-code", f->allow_user_code,
                "accept streaming (--mapper) and plugin (--job-lib) jobs: they run arbitrary code on the workers");
  cmd->add_option("--allow-input", f->allow_input,
                  "jobs may read only files under this directory (repeatable; default: anywhere the master can read)");
  cmd->add_option("--allow-output", f->allow_output,
                  "jobs may write outputs only under this directory (repeatable; default: anywhere)");
  cmd->add_option("--users", f->users,
                  "the users' tokens it accepts: NAME<TAB>KEY[<TAB>admin] lines, as `mr token new --user NAME FILE` "
                  "prints (mode 600; reloaded on SIGHUP)");
  cmd->add_option("--pools", f->pools,
                  "pools file: NAME WEIGHT MIN_SHARE MAX_RUNNING_JOBS lines ('*' for the rest; reloaded on SIGHUP)");
  cmd->add_option("--preempt-after", f->preempt_after,
                  "a pool kept below its min share or half its fair share this long takes slots back by cancelling "
                  "other pools' youngest attempts (0: never)")
      ->capture_default_str();
  cmd->add_option("--http-cert", f->http_cert, "serve the dashboard and API over HTTPS with this certificate (PEM)");
  cmd->add_option("--http-key", f->http_key, "the HTTPS certificate's private key (PEM, mode 600)");
  AddTlsFlags(cmd, shared);
  return [f](const Context& ctx) {
    MasterOptions mo;
    std::chrono::milliseconds timeout;
    if (!Parse(ParseHostPort(f->listen), "--listen", &mo.listen) || !Parse(ParseHostPort(f->http), "--http", &mo.http) ||
        !Parse(ParseDuration(f->timeout), "--worker-timeout", &timeout) ||
        !Parse(ParseDuration(f->history_age), "--history-age", &mo.history_age) ||
        !Parse(ParseDuration(f->preempt_after), "--preempt-after", &mo.preempt_after)) {
      return kExitUsage;
    }
    mo.worker_timeout = timeout;
    mo.history_jobs = f->history_jobs;
    mo.pools_file = f->pools;
    mo.data_dir = f->dir;
    mo.allow_user_code = f->allow_user_code;
    mo.allow_input = f->allow_input;
    mo.allow_output = f->allow_output;
    mo.http_cert = f->http_cert;
    mo.http_key = f->http_key;
    mo.rpc = RpcServerOptions::FromEnv();
    mo.http_limits = HttpServerOptions::FromEnv();
    auto fail = [](const std::string& m) { return std::fprintf(stderr, "mr master: %s\n", m.c_str()), kExitUsage; };
    auto token = ServerToken(*ctx.shared, "master");
    if (!token.ok()) return fail(token.status().message());
    if (token->empty() && ctx.shared->tls_cert.empty()) {
      // No token: one of its own, kept in its data dir (a restart keeps it) and left where only
      // this user's mr finds it; loopback only.
      token = LoadOrCreateToken(f->dir + "/LOCAL_TOKEN");
      if (!token.ok()) return fail(token.status().message());
      auto dir = LocalTokenDir();
      if (!dir.ok()) return fail(dir.status().message());
      mo.local_token = true;
      mo.local_token_dir = *dir;
    }
    std::shared_ptr<UserDirectory> users;
    if (!f->users.empty()) {
      auto u = UserDirectory::Load(f->users);
      if (!u.ok()) return fail(u.status().message());
      users = *u;
    }
    auto tls = MakeTls(std::move(*token), TlsFiles(*ctx.shared), users);
    if (!tls.ok()) return fail(tls.status().message());
    mo.tls = *tls;
    for (auto [host, flag] : {std::pair{mo.listen.host, "--listen"}, std::pair{mo.http.host, "--http"}}) {
      Status bind = CheckBindAllowed(host, mo.local_token || mo.tls->plaintext(), flag);
      if (!bind.ok()) return fail(bind.message());
    }
    return RunServer("master", *ctx.shared, [&] { return RunMaster(mo); });
  };
}

Action DefineWorker(CLI::App* cmd, Shared* shared) {
  struct Flags {
    std::string master = kDefaultMasterAddress, dir, listen = "127.0.0.1:0", heartbeat = "1s", buffer = "256m", advertise, name;
    std::string task_memory, task_timeout = "10m";
    int slots = DefaultWorkerSlots(), threads = 1;
    int merge_factor = 0;
    bool allow_user_code = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--master", f->master, "master address HOST:PORT")->capture_default_str();
  cmd->add_option("--data-dir", f->dir, "where intermediate data lives")->required();
  cmd->add_option("--listen", f->listen, "shuffle server address (port 0 = any)")->capture_default_str();
  cmd->add_option("--name", f->name, "the name the master shows this worker by (default: its shuffle HOST:PORT)");
  cmd->add_option("--advertise", f->advertise,
                  "the host other machines reach this worker by (default: the --listen host, or for a "
                  "wildcard listen this machine's address on its connection to the master)");
  cmd->add_option("--slots", f->slots, "tasks run at once")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--threads", f->threads, "threads per map task")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--heartbeat", f->heartbeat, "heartbeat period")->capture_default_str();
  cmd->add_option("--map-buffer", f->buffer, "map output memory per task before spilling")->capture_default_str();
  cmd->add_option("--merge-factor", f->merge_factor,
                  "most map outputs a reduce task merges at once; more are merged in passes "
                  "(0 = the open-file limit / 16, within 8..128)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--allow-user-code", f->allow_user_code,
                "run streaming (--mapper) and plugin (--job-lib) tasks; without it the worker refuses them, "
                "whatever it is sent");
  cmd->add_option("--task-memory", f->task_memory,
                  "data memory each task process of user code may use, unless its job says (default: this "
                  "machine's memory / (2 x slots), at least 1g)");
  cmd->add_option("--task-timeout", f->task_timeout,
                  "how long a task process of user code may go without progress before it is killed, unless "
                  "its job says")
      ->capture_default_str();
  AddTlsFlags(cmd, shared);
  AddLogFlags(cmd, shared);
  return [f](const Context& ctx) {
    WorkerOptions wo;
    uint64_t buffer = 0;
    if (!Parse(ParseHostPort(f->master), "--master", &wo.master) ||
        !Parse(ParseHostPort(f->listen), "--listen", &wo.listen) ||
        !Parse(ParseDuration(f->heartbeat), "--heartbeat", &wo.heartbeat) ||
        !Parse(ParseSize(f->buffer), "--map-buffer", &buffer) ||
        !Parse(ParseDuration(f->task_timeout), "--task-timeout", &wo.task_timeout) ||
        (!f->task_memory.empty() && !Parse(ParseSize(f->task_memory), "--task-memory", &wo.task_memory))) {
      return kExitUsage;
    }
    wo.data_dir = f->dir;
    wo.advertise = f->advertise;
    wo.allow_user_code = f->allow_user_code;
    wo.rpc = RpcServerOptions::FromEnv();
    auto fail = [](const std::string& m) { return std::fprintf(stderr, "mr worker: %s\n", m.c_str()), kExitUsage; };
    auto token = ServerToken(*ctx.shared, "worker");
    if (!token.ok()) return fail(token.status().message());
    if (token->empty() && ctx.shared->tls_cert.empty()) {
      auto local = IsLoopbackHost(wo.master.host) ? FindLocalToken(wo.master.port) : std::nullopt;
      if (!local) {
        return fail(fmt::format("no cluster token: give --token-file FILE or MR_TOKEN{}",
                                IsLoopbackHost(wo.master.host)
                                    ? fmt::format(" (no master started by this user without a token listens on port {})",
                                                  wo.master.port)
                                    : ""));
      }
      *token = *local;
      wo.local_only = true;
    }
    auto tls = MakeTls(std::move(*token), TlsFiles(*ctx.shared));
    if (!tls.ok()) return fail(tls.status().message());
    wo.tls = *tls;
    wo.name = f->name;
    if (!wo.advertise.empty()) {
      // A bare IPv6 address or a name; brackets are accepted and dropped.
      if (wo.advertise.front() == '[' && wo.advertise.back() == ']') {
        wo.advertise = wo.advertise.substr(1, wo.advertise.size() - 2);
      }
      if (IsWildcardHost(wo.advertise)) {
        return std::fprintf(stderr, "mr worker: --advertise %s is a wildcard: give an address other hosts can reach\n",
                            f->advertise.c_str()), kExitUsage;
      }
    }
    Status bind = CheckBindAllowed(wo.listen.host, wo.local_only || wo.tls->plaintext(), "--listen");
    if (!bind.ok()) return fail(bind.message());
    wo.slots = f->slots;
    wo.threads = f->threads;
    wo.map_buffer_bytes = buffer;
    wo.merge_factor = f->merge_factor;
    return RunServer("worker", *ctx.shared, [&] { return RunWorker(wo); });
  };
}

void AddShowFlag(CLI::App* cmd, int* show) {
  cmd->add_option("--show", *show, "lines of the output shown when the job succeeds (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
}

Action DefineSubmit(CLI::App* cmd, Shared*) {
  auto o = std::make_shared<SubmitOptions>();
  AddSubmitFlags(cmd, o.get());
  cmd->add_flag("--wait", o->wait, "show progress and wait for the job to end (as mr wait)");
  cmd->add_flag("--quiet,-q", o->quiet, "print only the job id (for scripts)");
  AddShowFlag(cmd, &o->show);
  return [o](const Context& ctx) { return CmdSubmit(ctx.client, *o); };
}

// The job id of a command on one job.
std::shared_ptr<std::string> AddJobArgument(CLI::App* cmd) {
  auto job = std::make_shared<std::string>();
  cmd->add_option("JOB", *job, "job id")->required();
  return job;
}

Action DefineWait(CLI::App* cmd, Shared*) {
  auto job = AddJobArgument(cmd);
  auto show = std::make_shared<int>(kDefaultShowLines);
  AddShowFlag(cmd, show.get());
  return [job, show](const Context& ctx) { return CmdWait(ctx.client, *job, *show); };
}
Action DefineStatus(CLI::App* cmd, Shared*) {
  auto job = AddJobArgument(cmd);
  auto follow = std::make_shared<bool>(false);
  cmd->add_flag("--follow,-f", *follow, "show progress until the job ends, then its status");
  return [job, follow](const Context& ctx) { return CmdStatus(ctx.client, *job, *follow); };
}
Action DefineKill(CLI::App* cmd, Shared*) {
  auto job = AddJobArgument(cmd);
  return [job](const Context& ctx) { return CmdKill(ctx.client, *job); };
}

Action DefineCat(CLI::App* cmd, Shared*) {
  auto o = std::make_shared<CatOptions>();
  cmd->add_option("OUT", o->output, "a job's output directory")->required();
  cmd->add_option("--show,--head,-n", o->head, "print only the first N lines")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_flag("--partial", o->partial, "read the parts there are, even without _SUCCESS (an unfinished or failed job)");
  return [o](const Context&) { return CmdCat(*o); };
}

Action DefineVersion(CLI::App* cmd, Shared* shared) {
  cmd->add_flag("--json", shared->json, "print {\"version\": \"...\"}");
  return [](const Context& ctx) {
    if (ctx.client.json) return std::printf("{\"version\": \"%s\"}\n", VersionText().c_str()), kExitOk;
    return std::printf("%s\n", VersionText().c_str()), kExitOk;
  };
}

Action DefineJobsAvailable(CLI::App*, Shared*) {
  return [](const Context&) { return CmdJobsAvailable(); };
}
Action DefineJobs(CLI::App*, Shared*) {
  return [](const Context& ctx) { return CmdJobs(ctx.client); };
}
Action DefineWorkers(CLI::App* cmd, Shared*) {
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("--all", *all, "also the workers lost recently");
  return [all](const Context& ctx) { return CmdWorkers(ctx.client, *all); };
}
Action DefineLogs(CLI::App* cmd, Shared*) {
  struct Flags {
    std::string task;
    uint32_t attempt = 0;
  };
  auto job = AddJobArgument(cmd);
  auto f = std::make_shared<Flags>();
  cmd->add_option("--task", f->task, "map, reduce, map/N or reduce/N (default: every task)");
  cmd->add_option("--attempt", f->attempt, "one attempt number (default: every attempt)")
      ->check(CLI::Range(1u, 1000000u));
  return [job, f](const Context& ctx) { return CmdLogs(ctx.client, *job, f->task, f->attempt); };
}

Action DefineRun(CLI::App* cmd, Shared*) {
  auto run = std::make_shared<RunOptions>();
  AddSubmitFlags(cmd, &run->submit);
  cmd->add_option("--workers", run->workers, "worker processes")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--slots", run->slots, "tasks at once per worker (default cores/workers)");
  cmd->add_option("--threads", run->threads, "threads per map task")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--keep-logs", run->keep_logs, "copy the processes' logs to this directory");
  cmd->add_flag("--keep-dashboard", run->keep_dashboard, "after the job, keep the dashboard up until Ctrl-C");
  cmd->add_option("--http", run->http, "the master's dashboard address HOST:PORT (port 0 = any)")
      ->capture_default_str();
  cmd->add_flag("--json", run->json, "machine-readable summary");
  AddShowFlag(cmd, &run->show);
  return [run](const Context& ctx) {
    run->token_file = ctx.token_file;
    return CmdRun(*run);
  };
}

Action DefineTeraGen(CLI::App* cmd, Shared*) {
  auto tg = std::make_shared<TeraGenOptions>();
  cmd->add_option("ROWS", tg->rows, "number of 100-byte rows (digits, or with k, m, g: 10m = 10,000,000)")->required();
  cmd->add_option("DIR", tg->dir, "output directory (must not exist)")->required();
  cmd->add_flag("--ascii", tg->ascii, "printable keys and CRLF rows (gensort -a)");
  cmd->add_option("--parts", tg->parts, "output files (default 2 per worker)")->check(CLI::Range(1, 100000));
  cmd->add_option("--workers", tg->run.workers, "worker processes")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--keep-logs", tg->run.keep_logs, "copy the processes' logs to this directory");
  cmd->add_flag("--overwrite", tg->run.submit.overwrite, "replace DIR if it exists");
  return [tg](const Context& ctx) {
    tg->run.token_file = ctx.token_file;
    return CmdTeraGen(*tg);
  };
}

Action DefineTeraValidate(CLI::App* cmd, Shared*) {
  auto tv = std::make_shared<TeraValidateOptions>();
  cmd->add_option("DIR", tv->dir, "the sorted output")->required();
  cmd->add_option("--input", tv->inputs, "the input that was sorted: check the output holds its records");
  cmd->add_flag("--json", tv->json, "machine-readable output");
  return [tv](const Context&) { return CmdTeraValidate(*tv); };
}

Action DefineReport(CLI::App* cmd, Shared*) {
  auto report = std::make_shared<ReportOptions>();
  cmd->add_option("OUT", report->output, "the output directory of a --job weblog run")->required();
  cmd->add_flag("--json", report->json, "GoAccess-compatible JSON on stdout");
  cmd->add_option("--html", report->html, "write one self-contained HTML page to this file");
  cmd->add_option("--show,--top", report->top, "entries shown per panel")->capture_default_str()->check(
      CLI::Range(1, 100000));
  return [report](const Context&) { return CmdReport(*report); };
}

// `mr token new FILE [--user NAME]`: a new random token in FILE (mode 600; never replacing a file).
Action DefineToken(CLI::App* cmd, Shared*) {
  struct Flags {
    std::string verb, file, user;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("VERB", f->verb, "new: make a token")->required()->check(CLI::IsMember({"new"}));
  cmd->add_option("FILE", f->file, "where to write it (must not exist)")->required();
  cmd->add_option("--user", f->user,
                  "a user's token (NAME:SECRET) for clients, instead of the cluster token; prints the line for "
                  "the master's --users file");
  return [f](const Context&) {
    auto t = NewToken(f->user);
    if (!t.ok()) return std::fprintf(stderr, "mr token: %s\n", t.status().message().c_str()), kExitUsage;
    Status written = WriteSecretFile(f->file, TokenText(*t) + "\n", /*exclusive=*/true);
    if (!written.ok()) return std::fprintf(stderr, "mr token: %s\n", written.message().c_str()), kExitFailed;
    if (t->kind == Token::Kind::kUser) {
      std::printf("%s\n", UsersFileLine(*t).c_str());
      std::fprintf(stderr, "mr token: wrote %s's token to %s; add the line above to the master's --users file "
                           "(then SIGHUP the master)\n", f->user.c_str(), f->file.c_str());
    } else {
      std::fprintf(stderr, "mr token: wrote a cluster token to %s\n", f->file.c_str());
    }
    return kExitOk;
  };
}

// `mr streaming`: its arguments are Hadoop's, parsed by client/streaming_cli.h before CLI11 sees
// them (RunStreaming); this entry gives `mr help streaming`.
Action DefineStreaming(CLI::App* cmd, Shared*) {
  cmd->footer(HadoopStreamingHelp());
  return [](const Context&) { return kExitUsage; };
}

int RunStreaming(const std::vector<std::string>& args) {
  auto job = ParseHadoopStreaming(args);
  if (!job.ok()) {
    std::fprintf(stderr, "mr streaming: %s (see mr help streaming)\n", job.status().message().c_str());
    return kExitUsage;
  }
  if (job->help) return std::printf("%s", HadoopStreamingHelp().c_str()), kExitOk;
  if (job->master.empty()) {
    RunOptions ro;
    ro.submit = job->submit;
    ro.token_file = job->token_file;
    return CmdRun(ro);
  }
  ClientOptions client;
  if (!Parse(ParseHostPort(job->master), "--master", &client.master)) return kExitUsage;
  auto tls = ClientTls(job->token_file, client.master, &client.token_flag);
  if (!tls.ok()) return std::fprintf(stderr, "mr: %s\n", tls.status().message().c_str()), kExitUsage;
  client.tls = *tls;
  return CmdSubmit(client, job->submit);
}

// Every command, in the order `mr --help` lists them.
const Command kCommands[] = {
    {"master", "run the master", Takes::kToken, DefineMaster},
    {"worker", "run a worker", Takes::kToken, DefineWorker},
    {"submit", "submit a job to a running master", Takes::kClient, DefineSubmit},
    {"status", "show one job", Takes::kClient, DefineStatus},
    {"jobs", "list jobs", Takes::kClient, DefineJobs},
    {"workers", "list live workers", Takes::kClient, DefineWorkers},
    {"logs", "show the logs of a job's attempts (and their user code's stderr)", Takes::kClient, DefineLogs},
    {"kill", "cancel a job", Takes::kClient, DefineKill},
    {"wait", "follow a submitted job until it ends; exit with its result", Takes::kClient, DefineWait},
    {"run", "run one job on a local cluster started for it", Takes::kToken, DefineRun},
    {"streaming", "run a Hadoop Streaming command line as written (mr streaming -input ... -mapper ...)",
     Takes::kNothing, DefineStreaming},
    {"cat", "print a job's output, its parts in key order", Takes::kNothing, DefineCat},
    {"jobs-available", "list the jobs you can run, with their arguments", Takes::kNothing, DefineJobsAvailable},
    {"teragen", "write TeraSort input (gensort layout) on a local cluster", Takes::kToken, DefineTeraGen},
    {"teravalidate", "check the order and checksum of a terasort output", Takes::kNothing, DefineTeraValidate},
    {"report", "render a weblog job's output: terminal summary, JSON or HTML", Takes::kNothing, DefineReport},
    {"token", "make a token: mr token new FILE [--user NAME]", Takes::kNothing, DefineToken},
    {"version", "print the version", Takes::kNothing, DefineVersion},
    // "help" is added by RunCli: it needs the whole command line.
};

// The global options: every command accepts them, before or after its name (git's and kubectl's
// rule); a command that has no use for one lists it apart, as having no effect there.
void AddSharedFlags(CLI::App* cmd, Takes takes, Shared* shared) {
  const char* unused = "Global options (no effect on this command)";
  auto place = [&](CLI::Option* opt, bool used) {
    if (!used) opt->group(unused);
  };
  if (cmd->get_option_no_throw("--master") == nullptr) {
    place(cmd->add_option("--master", shared->master, "the master's address")->type_name("HOST:PORT")->capture_default_str(),
          takes == Takes::kClient);
  }
  if (cmd->get_option_no_throw("--token-file") == nullptr) {
    place(cmd->add_option("--token-file", shared->token_file,
                          "file holding the cluster token or a user's token (mode 600; default: $MR_TOKEN; none: a "
                          "master on this machine started by you without one)")
              ->type_name("PATH"),
          takes != Takes::kNothing);
  }
  if (cmd->get_option_no_throw("--json") == nullptr) {
    place(cmd->add_flag("--json", shared->json, "machine-readable output"), takes == Takes::kClient);
  }
}

// CLI11's help with plain value names: "N" for numbers instead of "INT:INT in [1 - 64]" (the bounds,
// where they matter, are in the flag's description), and "mr COMMAND" in usage lines.
class Formatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) return "";
    std::string type = opt->get_type_name();
    type = type.substr(0, type.find_first_of(": "));
    if (type == "INT" || type == "UINT" || type == "FLOAT") type = "N";
    std::string out = type.empty() ? "" : " " + type;
    if (!opt->get_default_str().empty()) out += "=" + opt->get_default_str();
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    if (opt->get_required()) out += " REQUIRED";
    return out;
  }
};

// The long names ("--master") of a command's options.
std::vector<std::string> FlagNames(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : cmd->get_options()) {
    for (const std::string& n : opt->get_lnames()) names.push_back("--" + n);
  }
  return names;
}

// Whether `flag` ("--master") takes a value in any command.
bool TakesValue(const CLI::App& app, const std::string& flag) {
  for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; })) {
    const CLI::Option* opt = cmd->get_option_no_throw(flag);
    if (opt != nullptr && opt->get_expected_min() > 0) return true;
  }
  return false;
}

// `mr --master H:P status 7` is `mr status 7 --master H:P`: options before the command move after it.
// Top-level flags (--help, --version) stay where they are.
std::vector<std::string> OptionsAfterCommand(const CLI::App& app, std::vector<std::string> args) {
  std::vector<std::string> leading;
  size_t i = 0;
  for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; i++) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--version" || a == "-V") return args;
    leading.push_back(a);
    if (a.find('=') == std::string::npos && TakesValue(app, a) && i + 1 < args.size()) leading.push_back(args[++i]);
  }
  if (leading.empty() || i == args.size()) return args;
  std::vector<std::string> out = {args[i]};
  out.insert(out.end(), leading.begin(), leading.end());
  out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  return out;
}

// The command named `name`; nullptr when there is none.
CLI::App* FindCommand(CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](const CLI::App* cmd) { return cmd->get_name() == name; });
  return found.empty() ? nullptr : found[0];
}

std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(cmd->get_name());
  return names;
}

// After a parse error: a flag `cmd` does not know, with the closest one it does; "" when every
// flag is known (the error is about something else).
std::string UnknownFlagMessage(const CLI::App* cmd, const std::vector<std::string>& args) {
  std::vector<std::string> known = FlagNames(cmd);
  for (size_t i = 1; i < args.size(); i++) {
    if (args[i] == "--") break;
    if (!args[i].starts_with("--")) continue;
    std::string flag = args[i].substr(0, args[i].find('='));
    if (std::find(known.begin(), known.end(), flag) != known.end()) {
      if (args[i].find('=') == std::string::npos && cmd->get_option(flag)->get_expected_min() > 0) i++;  // its value
      continue;
    }
    std::string guess = Closest(flag, known);
    return fmt::format("mr: unknown flag {} for mr {}{} (see mr help {})", flag, cmd->get_name(),
                       guess.empty() ? "" : fmt::format("; did you mean {}?", guess), cmd->get_name());
  }
  return "";
}

// `mr help [COMMAND | JOB | job JOB]`.
int Help(CLI::App& app, const std::vector<std::string>& topic) {
  if (topic.empty()) {
    // Not app.help(): once `help` is parsed, that shows the help command's own help.
    return std::printf("%s", app.get_formatter()->make_help(&app, "mr", CLI::AppFormatMode::Normal).c_str()), kExitOk;
  }
  bool job_only = topic[0] == "job" && topic.size() == 2;
  const std::string& name = job_only ? topic[1] : topic[0];
  if (topic.size() > (job_only ? 2u : 1u)) {
    return std::fprintf(stderr, "mr help: one topic at a time: a command or a job\n"), kExitUsage;
  }
  CLI::App* cmd = job_only ? nullptr : FindCommand(app, name);
  if (cmd != nullptr) {
    std::printf("%s", cmd->help("mr").c_str());
    if (DescribeJob(name) != nullptr) std::printf("\n(%s is also a job: mr help job %s)\n", name.c_str(), name.c_str());
    if (name == "jobs") std::printf("\n(the jobs you can run: mr jobs-available)\n");
    return kExitOk;
  }
  if (PrintJobHelp(name)) return kExitOk;
  std::vector<std::string> known = job_only ? std::vector<std::string>{} : CommandNames(app);
  for (auto& j : JobNames()) known.push_back(j);
  std::string guess = Closest(name, known);
  std::fprintf(stderr, "mr help: no %s '%s'%s (commands: mr help; jobs: mr jobs-available)\n",
               job_only ? "job" : "command or job", name.c_str(),
               guess.empty() ? "" : fmt::format("; did you mean {}?", guess).c_str());
  return kExitUsage;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"mr: a fault-tolerant distributed MapReduce engine", "mr"};
  app.formatter(std::make_shared<Formatter>());
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");
  app.set_version_flag("--version,-V", VersionText(), "print the version");
  app.footer(
      "Global options, for every command, before or after it (mr --master H:P jobs):\n"
      "  --master HOST:PORT   the master (default 127.0.0.1:7070)\n"
      "  --token-file PATH    the cluster token or a user's (default $MR_TOKEN, or a local master's own)\n"
      "  --json               machine-readable output\n"
      "mr help COMMAND or JOB for more; mr jobs-available lists the jobs.\n"
      "Exit codes: 0 success; 1 the job failed or was killed, or the master refused the request (unknown job,\n"
      "missing input, existing output, bad --arg, wrong token); 2 bad usage; 3 the master cannot be reached\n"
      "(or the address is not the master's RPC port); 130 interrupted (Ctrl-C).");

  Shared shared;
  std::vector<std::pair<CLI::App*, Action>> actions;
  for (const Command& c : kCommands) {
    CLI::App* cmd = app.add_subcommand(c.name, c.help);
    Action action = c.define(cmd, &shared);
    AddSharedFlags(cmd, c.takes, &shared);
    actions.emplace_back(cmd, std::move(action));
  }
  std::vector<std::string> topic;
  CLI::App* help_cmd = app.add_subcommand("help", "help on a command or a job: mr help [COMMAND | JOB]");
  help_cmd->add_option("TOPIC", topic, "a command, a job, or job JOB");

  std::vector<std::string> args = OptionsAfterCommand(app, std::vector<std::string>(argv + 1, argv + argc));
  if (args.empty()) {
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitUsage;
  }
  if (args[0] == "streaming") return RunStreaming(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0].empty() || args[0][0] != '-') {
    if (FindCommand(app, args[0]) == nullptr) {
      std::string guess = Closest(args[0], CommandNames(app));
      std::fprintf(stderr, "mr: unknown command '%s'%s (see mr help)\n", args[0].c_str(),
                   guess.empty() ? "" : fmt::format("; did you mean {}?", guess).c_str());
      return kExitUsage;
    }
  }

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    CLI::App* cmd = args[0].empty() || args[0][0] == '-' ? nullptr : FindCommand(app, args[0]);
    std::string unknown = cmd ? UnknownFlagMessage(cmd, args) : "";
    if (!unknown.empty()) {
      std::fprintf(stderr, "%s\n", unknown.c_str());
    } else {
      std::fprintf(stderr, "mr: %s (see mr help%s)\n", e.what(), cmd ? (" " + cmd->get_name()).c_str() : "");
    }
    return kExitUsage;
  }
  if (help_cmd->parsed()) return Help(app, topic);

  Context ctx{ClientOptions{}, shared.token_file, &shared};
  if (!Parse(ParseHostPort(shared.master), "--master", &ctx.client.master)) return kExitUsage;
  ctx.client.json = shared.json;
  for (size_t i = 0; i < actions.size(); i++) {
    auto& [cmd, action] = actions[i];
    if (!cmd->parsed()) continue;
    if (kCommands[i].takes == Takes::kClient) {
      auto tls = ClientTls(shared.token_file, ctx.client.master, &ctx.client.token_flag);
      if (!tls.ok()) return std::fprintf(stderr, "mr: %s\n", tls.status().message().c_str()), kExitUsage;
      ctx.client.tls = *tls;
    }
    return action(ctx);
  }
  return kExitUsage;
}

}  // namespace mr
