#include "client/commands.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "client/interrupt.h"
#include "client/output.h"
#include "client/steps.h"
#include "common/address.h"
#include "common/block.h"
#include "common/clock.h"
#include "common/defaults.h"
#include "common/output_layout.h"
#include "common/handshake.h"
#include "common/tls.h"
#include "common/job_files.h"
#include "common/job_json.h"
#include "common/job_state.h"
#include "common/sync_client.h"
#include "jobs/job.h"
#include "jobs/key_fields.h"
#include "jobs/streaming_env.h"
#include "jobs/plugin.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;
using json = nlohmann::json;
constexpr Millis kCallTimeout{10000};
// Steps of a pipeline followed at most (the master runs at most 17).
constexpr int kMaxPipelineFollow = 64;

void Fail(const std::string& message) { std::fprintf(stderr, "mr: %s\n", message.c_str()); }

Result<std::unique_ptr<SyncClient>> ConnectMaster(const ClientOptions& c) {
  auto client = SyncClient::Connect(c.master, proto::ROLE_CLIENT, c.tls, Millis(5000));
  if (!client.ok() && client.status().code() == Status::Code::kAborted) {
    // Refused by the master (e.g. authentication failed), or the peer failed to prove it holds the
    // token: the message says which.
    std::string m = client.status().message();
    auto pos = m.find(" refused the connection: ");
    if (pos != std::string::npos) m = "the master refused the connection: " + m.substr(pos + 25);
    if (c.tls && c.tls->options().token.empty() && m.find(kAuthFailed) != std::string::npos) {
      m += IsLoopbackHost(c.master.host)
               ? "; no token given, and this user has no local token for that port (a master started by "
                 "another user, or not running): give --token-file FILE or MR_TOKEN"
               : "; no token given: give --token-file FILE or MR_TOKEN";
    }
    return Status::Aborted(m);
  }
  if (!client.ok()) {
    return Status::Unavailable(fmt::format("cannot reach the master at {}: {}", c.master.ToString(),
                                           client.status().message()));
  }
  return client;
}

// A job id given on the command line; prints the error when it is not one.
std::optional<uint64_t> JobIdArgument(const std::string& text) {
  auto id = ParseJobId(text);
  if (!id.ok()) {
    Fail(id.status().message());
    return std::nullopt;
  }
  return *id;
}

// A refusal (wrong token, unknown job, bad request) is the request's fault: 1; anything else means
// the master could not be reached: 3.
int ExitCodeOf(const Status& s) {
  // Refused by the master (Aborted), or a request that cannot be sent at all (InvalidArgument: e.g. an
  // argument name that is not UTF-8): the request failed. Anything else: the master was not reached.
  const auto code = s.code();
  return code == Status::Code::kAborted || code == Status::Code::kInvalidArgument ? kExitFailed : kExitUnreachable;
}

// " --master H:P" when the client talks to another master than the default, and the token flag it
// was given, for the commands it prints.
std::string MasterFlag(const ClientOptions& c) {
  return (c.master.ToString() == kDefaultMasterAddress ? "" : " --master " + c.master.ToString()) +
         c.token_flag;
}

// One request/response to the master; prints the error and sets *exit_code on failure.
Result<proto::Envelope> Ask(const ClientOptions& c, const proto::Envelope& req, int* exit_code) {
  auto client = ConnectMaster(c);
  if (!client.ok()) {
    Fail(client.status().message());
    *exit_code = ExitCodeOf(client.status());
    return client.status();
  }
  auto reply = (*client)->Call(req, kCallTimeout);
  if (!reply.ok()) {
    Fail(reply.status().message());
    *exit_code = ExitCodeOf(reply.status());
  }
  return reply;
}

std::string Elapsed(const proto::JobStatus& s) {
  if (s.start_time_ms() == 0) return "-";
  int64_t end = s.end_time_ms() ? s.end_time_ms() : NowMs();
  return FormatDuration(Millis(end - s.start_time_ms()));
}

// When the job was submitted, in local time.
std::string SubmitTime(const proto::JobStatus& s) {
  if (s.submit_time_ms() == 0) return "-";
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::localtime(static_cast<std::time_t>(s.submit_time_ms() / 1000)));
}

// The job's --arg KEY=VALUE pairs, in key order.
std::string ArgsText(const proto::JobStatus& s) {
  std::map<std::string, std::string> sorted(s.spec().args().begin(), s.spec().args().end());
  std::string out;
  for (auto& [k, v] : sorted) out += fmt::format("{}{}={}", out.empty() ? "" : " ", k, v);
  return out;
}

// Display width of UTF-8 text (code points; good enough for paths and names).
size_t Width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

// A plain-text table: columns as wide as their widest cell, numbers right-aligned, the last
// column unpadded.
class Table {
 public:
  Table(std::vector<std::string> header, std::string align) : align_(std::move(align)) {
    rows_.push_back(std::move(header));
  }
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print(FILE* out) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (auto& r : rows_) {
      for (size_t i = 0; i < r.size() && i < width.size(); i++) width[i] = std::max(width[i], Width(r[i]));
    }
    for (auto& r : rows_) {
      std::string line;
      for (size_t i = 0; i < r.size() && i < width.size(); i++) {
        bool last = i + 1 == width.size();
        std::string pad(width[i] - Width(r[i]), ' ');
        if (i > 0) line += "  ";
        if (i < align_.size() && align_[i] == 'r') line += pad + r[i];
        else line += last ? r[i] : r[i] + pad;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      std::fprintf(out, "%s\n", line.c_str());
    }
  }

 private:
  std::string align_;  // 'l' or 'r' per column
  std::vector<std::vector<std::string>> rows_;
};

int64_t Counter(const proto::JobStatus& s, const std::string& name) {
  auto it = s.counters().find(name);
  return it == s.counters().end() ? 0 : it->second;
}

// Input read per second of the job's run so far ("-" before anything is read).
std::string InputRate(const proto::JobStatus& s) {
  if (s.start_time_ms() == 0) return "-";
  int64_t end = s.end_time_ms() ? s.end_time_ms() : NowMs();
  int64_t ms = std::max<int64_t>(1, end - s.start_time_ms());
  int64_t bytes = Counter(s, counter::kMapInputBytes);
  if (bytes <= 0) return "-";
  return FormatBytes(static_cast<uint64_t>(bytes * 1000.0 / ms)) + "/s";
}


// Progress: on a terminal a bar redrawn in place (carriage return, erase to the end of the line),
// fitted to the terminal's width; otherwise plain lines, one when the job advances (at most one a
// second) and at least one every 10 s, so a log file shows the job moving.
class Progress {
 public:
  // With `json`, one JSON object a line instead of text (and never a redrawn bar).
  Progress(FILE* out, bool json) : out_(out), tty_(!json && ::isatty(::fileno(out))), json_(json) {}

  void Show(const proto::JobStatus& s) {
    double total = s.maps_total() + s.reduces_total();
    double done = s.maps_done() + s.reduces_done();
    double frac = total > 0 ? done / total : (s.state() == proto::JOB_SUCCEEDED ? 1 : 0);
    int64_t elapsed_ms = 0;
    if (s.start_time_ms()) elapsed_ms = (s.end_time_ms() ? s.end_time_ms() : NowMs()) - s.start_time_ms();
    int64_t eta_ms = -1;  // unknown
    if (Finished(s.state())) eta_ms = 0;
    else if (frac > 0 && frac < 1 && elapsed_ms > 500) eta_ms = static_cast<int64_t>(elapsed_ms * (1 - frac) / frac);
    std::string eta = eta_ms < 0 ? "-" : Finished(s.state()) ? "0s" : FormatDuration(Millis(eta_ms));
    std::string tasks = fmt::format("map {}/{}  reduce {}/{}", s.maps_done(), s.maps_total(), s.reduces_done(),
                                    s.reduces_total());
    if (!s.waiting().empty()) tasks += "  waiting: " + s.waiting();
    std::string rate = InputRate(s);
    int64_t failed = Counter(s, counter::kAttemptsFailed);
    std::string failures = failed > 0 ? fmt::format("  {} failed", failed) : "";
    std::string state = s.state() == proto::JOB_RUNNING ? "" : JobStateName(s.state()) + "  ";
    std::string elapsed = FormatDuration(Millis(elapsed_ms));
    int percent = static_cast<int>(frac * 100);

    if (tty_) {
      size_t cols = TerminalWidth();
      // A bar as wide as the terminal allows, the same for the whole run, then the most detailed
      // text that fits: the line must never wrap (a wrapped line cannot be redrawn in place).
      if (bar_width_ == 0) bar_width_ = cols >= 110 ? 30 : cols >= 80 ? 20 : 10;
      int filled = static_cast<int>(frac * bar_width_);
      std::string bar = std::string(filled, '=');
      if (filled < bar_width_) bar += '>' + std::string(bar_width_ - filled - 1, ' ');
      std::string head = fmt::format("[{}] {:3}%  {}", bar, percent, state);
      std::vector<std::string> variants = {
          fmt::format("{}  input {}{}  elapsed {}  eta {}", tasks, rate, failures, elapsed, eta),
          fmt::format("{}  {}{}  eta {}", tasks, rate, failures, eta),
          fmt::format("{}{}  eta {}", tasks, failures, eta),
          tasks,
      };
      std::string line = head + variants.back();
      for (auto& v : variants) {
        if (Width(head) + Width(v) < cols) {
          line = head + v;
          break;
        }
      }
      if (Width(line) >= cols) line = line.substr(0, cols > 1 ? cols - 1 : 0);
      std::fprintf(out_, "\r%s\x1b[K", line.c_str());
      std::fflush(out_);
      drawn_ = true;
      return;
    }
    auto now = std::chrono::steady_clock::now();
    std::string key = fmt::format("{} {} {} {} {}", s.maps_done(), s.reduces_done(), failed, static_cast<int>(s.state()),
                                  s.waiting());
    bool changed = key != last_key_;
    bool due = (changed && now - last_time_ >= std::chrono::seconds(1)) || now - last_time_ >= std::chrono::seconds(10) ||
               (Finished(s.state()) && changed);
    if (!due) return;
    last_key_ = key;
    last_time_ = now;
    if (json_) {
      json line = {{"job", s.job_id()},         {"state", JobStateName(s.state())},
                   {"percent", percent},         {"maps_done", s.maps_done()},
                   {"maps_total", s.maps_total()}, {"reduces_done", s.reduces_done()},
                   {"reduces_total", s.reduces_total()}, {"elapsed_ms", elapsed_ms},
                   {"failed_attempts", failed}};
      if (eta_ms >= 0) line["eta_ms"] = eta_ms;
      if (!s.waiting().empty()) line["waiting"] = s.waiting();
      std::fprintf(out_, "%s\n", line.dump().c_str());
      std::fflush(out_);
      return;
    }
    std::fprintf(out_, "[%7s] %-9s %3d%%  %s  input %s%s  eta %s\n", elapsed.c_str(), JobStateName(s.state()).c_str(),
                 percent, tasks.c_str(), rate.c_str(), failures.c_str(), eta.c_str());
    std::fflush(out_);
  }

  void End() {
    if (tty_ && drawn_) std::fprintf(out_, "\n");
    drawn_ = false;
  }

 private:
  size_t TerminalWidth() const {
    winsize ws{};
    if (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
  }

  FILE* out_;
  bool tty_;
  bool json_;
  bool drawn_ = false;
  int bar_width_ = 0;
  std::string last_key_;
  std::chrono::steady_clock::time_point last_time_{};
};

}  // namespace


Result<proto::JobSpec> MakeJobSpec(const SubmitOptions& o) {
  proto::JobSpec spec;
  spec.set_job(o.job);
  if (o.job.empty() && o.mapper.empty()) return Status::InvalidArgument("--job is required (or --mapper)");
  if (!o.job_lib.empty()) spec.set_job_lib(std::filesystem::absolute(o.job_lib).lexically_normal().string());
  spec.set_mapper(o.mapper);
  spec.set_reducer(o.reducer);
  spec.set_combiner(o.combiner);
  if (o.mapper.empty() && (!o.reducer.empty() || !o.combiner.empty())) {
    const std::string& given = o.reducer.empty() ? o.combiner : o.reducer;
    bool number = !given.empty() && given.find_first_not_of("0123456789") == std::string::npos;
    return Status::InvalidArgument(fmt::format("--reducer and --combiner are streaming commands and need --mapper{}",
                                               number && !o.reducer.empty() ? "; did you mean --reducers?" : ""));
  }
  if (o.inputs.empty()) return Status::InvalidArgument("--input is required");
  if (o.output.empty()) return Status::InvalidArgument("--output is required");
  for (auto& in : o.inputs) spec.add_inputs(std::filesystem::absolute(in).lexically_normal().string());
  spec.set_output(std::filesystem::absolute(o.output).lexically_normal().string());
  // --reducers 0: a map-only job, whose maps write the output (part-m-NNNNN).
  spec.set_reducers(o.reducers);
  spec.set_map_only(o.reducers == 0);
  if (!o.split_size.empty()) {
    auto size = ParseSize(o.split_size);
    if (!size.ok()) return Status::InvalidArgument("--split-size: " + size.status().message());
    spec.set_split_size(*size);
  }
  if (!o.input_format.empty()) {
    auto f = ParseInputFormat(o.input_format);
    if (!f.ok()) return Status::InvalidArgument("--input-format: " + f.status().message());
    spec.set_input_format(o.input_format);
  }
  for (auto& kv : o.args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(fmt::format("--arg {}: want KEY=VALUE", kv));
    }
    std::string key = kv.substr(0, eq);
    if (spec.args().contains(key)) {
      return Status::InvalidArgument(fmt::format("--arg {} is given more than once", key));
    }
    (*spec.mutable_args())[key] = kv.substr(eq + 1);
  }
  // Key fields: the Hadoop properties they stand for (jobs/key_fields.h), checked like -D ones.
  const std::pair<const std::string*, std::vector<const char*>> key_flags[] = {
      {&o.key_fields, {kKeyFieldsProperty}},
      {&o.field_separator, {kFieldSeparatorProperty, kKeySeparatorProperty}},
      {&o.partition_by, {kPartitionProperty}},
      {&o.sort_by, {kSortProperty}},
  };
  if (o.reducers == 0 && (!o.partition_by.empty() || !o.sort_by.empty())) {
    return Status::InvalidArgument("--partition-by and --sort-by order what reducers get: a map-only job "
                                   "(--reducers 0) has none");
  }
  if (o.reducers == 0 && (!o.reducer.empty() || !o.combiner.empty())) {
    return Status::InvalidArgument("a map-only job (--reducers 0) runs no --reducer or --combiner");
  }
  for (const auto& [value, properties] : key_flags) {
    if (value->empty()) continue;
    if (o.mapper.empty()) {
      return Status::InvalidArgument(
          "--key-fields, --field-separator, --partition-by and --sort-by are for streaming (--mapper) jobs");
    }
    for (const char* p : properties) {
      if (spec.args().contains(p)) return Status::InvalidArgument(fmt::format("{} is given twice (a flag and --arg)", p));
      (*spec.mutable_args())[p] = *value;
    }
  }
  if (!o.mapper.empty()) {
    if (Status keys = ParseKeySpec(JobArgs(spec.args().begin(), spec.args().end())).status(); !keys.ok()) {
      return keys;
    }
  }
  for (const std::string& list : o.files) {
    for (size_t b = 0; b <= list.size();) {
      size_t e = std::min(list.find(',', b), list.size());
      if (e > b) {
        auto f = ReadJobFile(list.substr(b, e - b));
        if (!f.ok()) return f.status();
        *spec.add_files() = std::move(*f);
      }
      b = e + 1;
    }
  }
  if (spec.files_size() > 0 && o.mapper.empty() && o.job_lib.empty()) {
    return Status::InvalidArgument("--files are for streaming (--mapper) and plugin (--job-lib) jobs");
  }
  if (Status files = CheckJobFiles(spec.files(), /*have_bytes=*/true); !files.ok()) return files;
  if (!o.cmdenv.empty() && o.mapper.empty()) {
    return Status::InvalidArgument("--cmdenv is for streaming (--mapper) jobs: it sets their commands' environment");
  }
  if (!o.cmdenv.empty()) {
    if (spec.args().contains(kCmdEnvProperty)) {
      return Status::InvalidArgument(fmt::format("--cmdenv and --arg {} cannot be used together", kCmdEnvProperty));
    }
    JobArgs args(spec.args().begin(), spec.args().end());
    for (const std::string& kv : o.cmdenv) MR_RETURN_IF_ERROR(AddCmdEnv(kv, &args));
    (*spec.mutable_args())[kCmdEnvProperty] = args[kCmdEnvProperty];
  }
  spec.set_overwrite(o.overwrite);
  spec.set_pool(o.pool);
  if (!o.priority.empty()) {
    auto p = ParsePriority(o.priority);
    if (!p.ok()) return p.status();
    spec.set_priority(*p);
  }
  spec.set_max_slots(o.max_slots);
  if (!o.intermediate_codec.empty()) {
    auto codec = ParseCodec(o.intermediate_codec);
    if (!codec.ok()) return Status::InvalidArgument("--intermediate-codec: " + codec.status().message());
    spec.set_intermediate_codec(ToProto(*codec));
  }
  if ((!o.task_memory.empty() || !o.task_timeout.empty()) && o.job_lib.empty() && o.mapper.empty()) {
    return Status::InvalidArgument(
        "--task-memory and --task-timeout limit the task processes of plugin (--job-lib) and streaming (--mapper) "
        "jobs; built-in jobs run inside the worker");
  }
  if (o.skip_bad_records > 0 && o.job_lib.empty() && o.mapper.empty()) {
    return Status::InvalidArgument(
        "--skip-bad-records is for plugin (--job-lib) and streaming (--mapper) jobs: built-in jobs count the "
        "records they cannot read");
  }
  spec.set_skip_bad_records(o.skip_bad_records);
  if (!o.task_memory.empty()) {
    auto size = ParseSize(o.task_memory);
    if (!size.ok()) return Status::InvalidArgument("--task-memory: " + size.status().message());
    if (*size < (16u << 20)) return Status::InvalidArgument("--task-memory: at least 16m");
    spec.set_task_memory(*size);
  }
  if (!o.task_timeout.empty()) {
    auto d = ParseDuration(o.task_timeout);
    if (!d.ok()) return Status::InvalidArgument("--task-timeout: " + d.status().message());
    if (d->count() <= 0) return Status::InvalidArgument("--task-timeout: must be more than 0");
    spec.set_task_timeout_ms(d->count());
  }
  // A pipeline: the master runs each --then step when the one before succeeds (master/pipeline.h).
  for (const std::string& text : o.then) {
    auto step = MakeStepSpec(text, spec);
    if (!step.ok()) return step.status();
    *spec.add_then() = std::move(*step);
  }
  return spec;
}

Status CheckJobLibrary(const proto::JobSpec& spec) {
  if (spec.job_lib().empty() || ::access(spec.job_lib().c_str(), R_OK) != 0) return Status::OK();
  auto job = LoadPluginJob(spec.job_lib(), JobArgs(spec.args().begin(), spec.args().end()));
  if (!job.ok()) return Status::InvalidArgument(fmt::format("{}: {}", spec.job_lib(), job.status().message()));
  return Status::OK();
}

Result<uint64_t> SubmitJob(const ClientOptions& c, const proto::JobSpec& spec, int* exit_code) {
  proto::Envelope req;
  *req.mutable_submit_job()->mutable_spec() = spec;
  *exit_code = kExitFailed;
  auto reply = Ask(c, req, exit_code);
  if (!reply.ok()) return reply.status();
  if (!reply->has_submit_reply()) {
    Fail("the master sent an unexpected reply");
    *exit_code = kExitFailed;
    return Status::Protocol("unexpected reply to a submit");
  }
  return reply->submit_reply().job_id();
}

Result<proto::JobStatus> WaitForJob(const ClientOptions& c, uint64_t job_id, const std::atomic<bool>* interrupted,
                                    const std::function<Status()>& can_finish) {
  // With --json, stdout is for the JSON answer: progress goes to stderr.
  Progress progress(c.json ? stderr : stdout, c.json);
  std::unique_ptr<SyncClient> client;
  auto lost_since = std::chrono::steady_clock::now();
  constexpr auto kReconnectFor = std::chrono::seconds(120);
  while (true) {
    if (interrupted && interrupted->load()) {
      progress.End();
      return Status::Aborted("interrupted");
    }
    if (can_finish) {
      Status possible = can_finish();
      if (!possible.ok()) {
        progress.End();
        return possible;
      }
    }
    if (!client) {
      auto cl = ConnectMaster(c);
      if (!cl.ok()) {
        if (cl.status().code() == Status::Code::kAborted ||
            std::chrono::steady_clock::now() - lost_since > kReconnectFor) {
          progress.End();
          return cl.status();
        }
        std::this_thread::sleep_for(Millis(250));
        continue;
      }
      client = std::move(*cl);
    }
    proto::Envelope req;
    req.mutable_get_job()->set_job_id(job_id);
    auto reply = client->Call(req, kCallTimeout);
    if (!reply.ok()) {
      if (reply.status().code() == Status::Code::kAborted) {
        progress.End();
        return reply.status();
      }
      client.reset();  // the master may be restarting: keep trying for a while
      lost_since = std::chrono::steady_clock::now();
      continue;
    }
    const proto::JobStatus& s = reply->job_status().status();
    progress.Show(s);
    if (Finished(s.state())) {
      progress.End();
      return s;
    }
    std::this_thread::sleep_for(Millis(100));
  }
}

namespace {

void PrintFailedAttempts(const proto::JobStatus& s, const char* indent) {
  if (s.failed_attempts_size() == 0) return;
  std::printf("%sfailed attempts (latest %d):\n", indent, s.failed_attempts_size());
  for (auto& f : s.failed_attempts()) {
    std::string when = s.start_time_ms() && f.time_ms() >= s.start_time_ms()
                           ? "+" + FormatDuration(Millis(f.time_ms() - s.start_time_ms()))
                           : "";
    std::printf("%s  %-8s %s %u attempt %u on %s%s: %s\n", indent, when.c_str(), TaskKindName(f.kind()), f.index(),
                f.attempt(), f.worker().empty() ? "?" : f.worker().c_str(), f.lost() ? " (lost)" : "",
                f.error().c_str());
  }
}

void PrintCounters(const proto::JobStatus& s) {
  if (s.counters().empty()) return;
  std::map<std::string, int64_t> sorted(s.counters().begin(), s.counters().end());
  size_t width = 0;
  for (auto& [k, v] : sorted) width = std::max(width, k.size());
  std::printf("counters:\n");
  for (auto& [k, v] : sorted) {
    std::string human = k.ends_with(".bytes") && v >= 1024 ? "  (" + FormatBytes(v) + ")" : "";
    std::printf("  %-*s %15ld%s\n", static_cast<int>(width), k.c_str(), static_cast<long>(v), human.c_str());
  }
}

}  // namespace

void PrintSummary(const proto::JobStatus& s, bool as_json) {
  if (as_json) {
    std::printf("%s\n", JsonText(JobStatusJson(s, NowMs()), 2).c_str());
    return;
  }
  std::printf("job %lu %s in %s: %s, %s, %s read (%s)\n", static_cast<unsigned long>(s.job_id()),
              JobStateName(s.state()).c_str(), Elapsed(s).c_str(), Counted(s.maps_total(), "map").c_str(),
              Counted(s.reduces_total(), "reduce").c_str(),
              FormatBytes(s.input_bytes()).c_str(), InputRate(s).c_str());
  if (!s.error().empty()) {  // errors go to stderr, after the summary line that names the job
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", s.error().c_str());
  }
  if (s.state() == proto::JOB_SUCCEEDED) std::printf("output: %s\n", s.spec().output().c_str());
  if (s.state() != proto::JOB_SUCCEEDED) PrintFailedAttempts(s, "");
  PrintCounters(s);
}

namespace {

// Asks for the job once, before following it: an unreachable master or an unknown job then fails
// at once, where following keeps retrying (as it must while a master restarts under a followed job).
// False (the error printed, *exit_code set) on failure.
bool AskJob(const ClientOptions& c, uint64_t id, int* exit_code) {
  proto::Envelope req;
  req.mutable_get_job()->set_job_id(id);
  return Ask(c, req, exit_code).ok();
}

}  // namespace

Result<proto::JobStatus> WaitForPipeline(const ClientOptions& c, uint64_t job_id, const std::atomic<bool>* interrupted,
                                         const std::function<Status()>& can_finish,
                                         const std::function<void(const proto::JobStatus&)>& on_step) {
  for (int step = 0; step <= kMaxPipelineFollow; step++) {
    auto s = WaitForJob(c, job_id, interrupted, can_finish);
    if (!s.ok() || s->state() != proto::JOB_SUCCEEDED || s->spec().then_size() == 0) return s;
    // The master submits the next step as soon as it has journaled this one's end.
    proto::JobStatus done = *s;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (done.next_job_id() == 0 && done.next_error().empty()) {
      if (interrupted && interrupted->load()) return Status::Aborted("interrupted");
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(fmt::format("job {} succeeded, and the master has not started its pipeline's "
                                               "next step within a minute", job_id));
      }
      std::this_thread::sleep_for(Millis(100));
      proto::Envelope req;
      req.mutable_get_job()->set_job_id(job_id);
      int code = kExitFailed;
      auto reply = Ask(c, req, &code);
      if (reply.ok()) done = reply->job_status().status();
    }
    if (done.next_job_id() == 0) {
      done.set_state(proto::JOB_FAILED);
      done.set_error(done.next_error());
      return done;
    }
    if (on_step) on_step(done);
    job_id = done.next_job_id();
  }
  return Status::Internal("a pipeline longer than any the master runs");
}

namespace {

// Ctrl-C while following a job: the job keeps running; says how to re-attach or cancel it.
int StoppedFollowing(const ClientOptions& c, uint64_t id) {
  unsigned long n = static_cast<unsigned long>(id);
  std::string m = MasterFlag(c);
  std::fprintf(stderr, "mr: stopped following job %lu; it keeps running on the master.\n"
               "  re-attach: mr wait %lu%s\n  cancel:    mr kill %lu%s\n", n, n, m.c_str(), n, m.c_str());
  return kExitInterrupted;
}

// Follows job `id` until it ends: the progress display, then the summary and the output's first
// `show` lines. Ctrl-C stops following, not the job: it says how to re-attach. The exit code is the
// job's result (0 succeeded, 1 failed or killed), or 130 (interrupted) or 3 (master unreachable).
int FollowJob(const ClientOptions& c, uint64_t id, int show) {
  auto final_status = WaitForPipeline(c, id, CatchInterrupts(), nullptr, [&](const proto::JobStatus& done) {
    if (c.json) return;
    PrintSummary(done, false);
    std::printf("next step: job %lu (%s)\n", static_cast<unsigned long>(done.next_job_id()),
                done.spec().then(0).job().c_str());
    std::fflush(stdout);
  });
  if (!final_status.ok()) {
    if (CatchInterrupts()->load()) return StoppedFollowing(c, id);
    Fail(final_status.status().message());
    return ExitCodeOf(final_status.status());
  }
  PrintSummary(*final_status, c.json);
  if (!c.json && final_status->state() == proto::JOB_SUCCEEDED) {
    PrintOutputPreview(final_status->spec().output(), show, stdout);
  }
  return final_status->state() == proto::JOB_SUCCEEDED ? kExitOk : kExitFailed;
}

}  // namespace

int CmdSubmit(const ClientOptions& c, const SubmitOptions& o) {
  auto spec = MakeJobSpec(o);
  if (!spec.ok()) {
    Fail(spec.status().message());
    return kExitUsage;
  }
  Status refused = CheckJobLibrary(*spec);
  if (refused.ok()) refused = CheckSteps(*spec, o.then);
  if (!refused.ok()) {
    Fail(refused.message());
    return kExitFailed;
  }
  int code = kExitFailed;
  auto id = SubmitJob(c, *spec, &code);
  if (!id.ok()) return code;
  unsigned long n = static_cast<unsigned long>(*id);
  if (c.json && !o.wait) {
    std::printf("{\"id\": %lu}\n", n);
  } else if (o.quiet && !o.wait) {
    std::printf("%lu\n", n);
  } else if (!c.json) {
    std::string what = spec->job().empty() ? "streaming job" : "job " + spec->job();
    std::printf("submitted job %lu (%s, output %s)\n", n, what.c_str(), spec->output().c_str());
    if (!o.wait) {
      std::string m = MasterFlag(c);
      std::printf("  follow: mr wait %lu%s\n  status: mr status %lu%s\n  cancel: mr kill %lu%s\n", n, m.c_str(), n,
                  m.c_str(), n, m.c_str());
    }
    std::fflush(stdout);
  }
  if (!o.wait) return kExitOk;
  return FollowJob(c, *id, o.show);
}

int CmdWait(const ClientOptions& c, const std::string& job, int show) {
  auto id = JobIdArgument(job);
  if (!id) return kExitUsage;
  int code = kExitFailed;
  if (!AskJob(c, *id, &code)) return code;
  return FollowJob(c, *id, show);
}

// "alice", "etl (priority high, at most 4 slots)".
static std::string PoolText(const proto::JobStatus& s) {
  std::string text = s.spec().pool().empty() ? "-" : s.spec().pool();
  std::vector<std::string> notes;
  if (s.spec().priority() != proto::PRIORITY_NORMAL) notes.push_back(fmt::format("priority {}", PriorityName(s.spec().priority())));
  if (s.spec().max_slots() > 0) notes.push_back(fmt::format("at most {}", Counted(s.spec().max_slots(), "slot")));
  if (!notes.empty()) text += fmt::format(" ({})", fmt::join(notes, ", "));
  return text;
}

int CmdStatus(const ClientOptions& c, const std::string& job, bool follow) {
  auto id = JobIdArgument(job);
  if (!id) return kExitUsage;
  if (follow) {
    // The progress display until the job ends, then the status as without --follow.
    int code = kExitFailed;
    if (!AskJob(c, *id, &code)) return code;
    auto end = WaitForJob(c, *id, CatchInterrupts());  // with --json, progress goes to stderr
    if (!end.ok()) {
      if (CatchInterrupts()->load()) return StoppedFollowing(c, *id);
      Fail(end.status().message());
      return ExitCodeOf(end.status());
    }
  }
  proto::Envelope req;
  req.mutable_get_job()->set_job_id(*id);
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  const auto& s = reply->job_status().status();
  if (c.json) {
    std::printf("%s\n", JsonText(JobStatusJson(s, NowMs()), 2).c_str());
    return kExitOk;
  }
  std::printf("job %lu (%s): %s\n", static_cast<unsigned long>(s.job_id()), s.spec().job().c_str(),
              JobStateName(s.state()).c_str());
  // A pipeline's step: where it stands in the chain.
  if (s.previous_job_id() != 0) std::printf("  pipeline: after job %lu\n", static_cast<unsigned long>(s.previous_job_id()));
  if (s.spec().then_size() > 0) {
    std::vector<std::string> rest;
    for (const proto::JobSpec& step : s.spec().then()) rest.push_back(step.job());
    std::printf("  then:     %s%s\n", fmt::format("{}", fmt::join(rest, ", ")).c_str(),
                s.next_job_id() != 0 ? fmt::format(" (next: job {})", s.next_job_id()).c_str()
                : !s.next_error().empty() ? fmt::format(" (not run: {})", s.next_error()).c_str() : "");
  }
  uint32_t total = s.maps_total() + s.reduces_total();
  std::string inputs;
  for (auto& in : s.spec().inputs()) inputs += (inputs.empty() ? "" : " ") + in;
  std::printf("  map       %u/%u\n", s.maps_done(), s.maps_total());
  std::printf("  reduce    %u/%u\n", s.reduces_done(), s.reduces_total());
  if (total > 0) std::printf("  progress  %u%%\n", (s.maps_done() + s.reduces_done()) * 100 / total);
  std::printf("  submitted %s\n", SubmitTime(s).c_str());
  std::printf("  elapsed   %s\n", Elapsed(s).c_str());
  if (!s.spec().args().empty()) std::printf("  args      %s\n", ArgsText(s).c_str());
  std::printf("  input     %s (%s, %s)\n", inputs.c_str(), FormatBytes(s.input_bytes()).c_str(), InputRate(s).c_str());
  std::printf("  output    %s\n", s.spec().output().c_str());
  if (s.spec().skip_bad_records() > 0) {
    auto it = s.counters().find(counter::kRecordsSkipped);
    int64_t n = it == s.counters().end() ? 0 : it->second;
    std::printf("  skipped   %s (at most %u per map)%s\n", Counted(n, "bad record").c_str(), s.spec().skip_bad_records(),
                n > 0 ? fmt::format(", kept in {}/{}", s.spec().output(), kSkippedDirName).c_str() : "");
  }
  if (s.spec().task_memory() > 0 || s.spec().task_timeout_ms() > 0) {
    std::vector<std::string> limits;
    if (s.spec().task_memory() > 0) limits.push_back(FormatBytes(s.spec().task_memory()) + " of memory");
    if (s.spec().task_timeout_ms() > 0) {
      limits.push_back(FormatDuration(std::chrono::milliseconds(s.spec().task_timeout_ms())) + " without progress");
    }
    std::printf("  limits    each task process: %s\n", fmt::format("{}", fmt::join(limits, ", ")).c_str());
  }
  if (!s.error().empty()) std::printf("  error     %s\n", s.error().c_str());
  if (!s.waiting().empty()) std::printf("  waiting   %s\n", s.waiting().c_str());
  std::printf("  pool      %s\n", PoolText(s).c_str());
  if (!Finished(s.state())) {
    std::printf("  slots     %s running, fair share %.1f\n", Counted(s.running_slots(), "slot").c_str(),
                s.fair_share());
  }
  PrintFailedAttempts(s, "");
  PrintCounters(s);
  return kExitOk;
}

int CmdJobs(const ClientOptions& c) {
  proto::Envelope req;
  req.mutable_list_jobs();
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  if (c.json) {
    json arr = json::array();
    for (auto& s : reply->job_list().jobs()) arr.push_back(JobStatusJson(s, NowMs()));
    std::printf("%s\n", JsonText(arr, 2).c_str());
    return kExitOk;
  }
  // SLOTS: the slots an unfinished job holds / its fair share of the cluster's slots.
  Table t({"ID", "JOB", "OWNER", "POOL", "STATE", "SUBMITTED", "MAP", "REDUCE", "DONE", "SLOTS", "ELAPSED", "INPUT",
           "OUTPUT", "ARGS"},
          "rlllllrrrrrrll");
  for (auto& s : reply->job_list().jobs()) {
    uint32_t total = s.maps_total() + s.reduces_total();
    std::string state = JobStateName(s.state());
    if (s.queue_position() > 0) state += fmt::format(" #{}", s.queue_position());
    t.Row({std::to_string(s.job_id()), s.spec().job(), s.spec().owner().empty() ? "-" : s.spec().owner(),
           s.spec().pool().empty() ? "-" : s.spec().pool(), state, SubmitTime(s),
           fmt::format("{}/{}", s.maps_done(), s.maps_total()), fmt::format("{}/{}", s.reduces_done(), s.reduces_total()),
           total ? fmt::format("{}%", (s.maps_done() + s.reduces_done()) * 100 / total) : "-",
           Finished(s.state()) ? "-" : fmt::format("{}/{:.1f}", s.running_slots(), s.fair_share()), Elapsed(s),
           FormatBytes(s.input_bytes()), s.spec().output(), ArgsText(s)});
  }
  t.Print(stdout);
  return kExitOk;
}

int CmdWorkers(const ClientOptions& c, bool all) {
  proto::Envelope req;
  req.mutable_list_workers()->set_all(all);
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  if (c.json) {
    json arr = json::array();
    for (auto& w : reply->worker_list().workers()) {
      json j = {{"id", w.worker_id()}, {"host", w.host()}, {"pid", w.pid()}, {"shuffle_address", w.shuffle_address()},
                {"slots", w.slots()}, {"running", w.running()}, {"heartbeat_age_ms", w.heartbeat_age_ms()},
                {"registered_ms", w.registered_ms()}, {"tasks_succeeded", w.tasks_succeeded()},
                {"tasks_failed", w.tasks_failed()}, {"lost", w.lost()}};
      if (w.lost()) {
        j["lost_reason"] = w.lost_reason();
        j["lost_ms"] = w.lost_ms();
      }
      arr.push_back(std::move(j));
    }
    std::printf("%s\n", JsonText(arr, 2).c_str());
    return kExitOk;
  }
  Table t({"ID", "HOST", "PID", "SHUFFLE", "SLOTS", "RUNNING", "HEARTBEAT", "TASKS OK", "FAILED"}, "lllrrrrrr");
  for (auto& w : reply->worker_list().workers()) {
    std::string state = w.lost() ? fmt::format("lost {} ago: {}", FormatDuration(Millis(NowMs() - w.lost_ms())),
                                               w.lost_reason())
                                 : FormatDuration(Millis(w.heartbeat_age_ms())) + " ago";
    t.Row({w.worker_id(), w.host(), std::to_string(w.pid()), w.shuffle_address(),
           w.lost() ? "-" : std::to_string(w.slots()), w.lost() ? "-" : std::to_string(w.running()), state,
           std::to_string(w.tasks_succeeded()), std::to_string(w.tasks_failed())});
  }
  t.Print(stdout);
  return kExitOk;
}

int CmdLogs(const ClientOptions& c, const std::string& job, const std::string& task, uint32_t attempt) {
  auto id = JobIdArgument(job);
  if (!id) return kExitUsage;
  proto::Envelope req;
  proto::GetLogs* get = req.mutable_get_logs();
  get->set_job_id(*id);
  get->set_attempt(attempt);
  if (!task.empty()) {
    // map, reduce, map/3, reduce/0 (or m3, r0)
    std::string kind = task, index;
    if (auto slash = task.find('/'); slash != std::string::npos) {
      kind = task.substr(0, slash);
      index = task.substr(slash + 1);
    } else if (task.size() > 1 && (task[0] == 'm' || task[0] == 'r') && std::isdigit(static_cast<unsigned char>(task[1]))) {
      kind = task.substr(0, 1);
      index = task.substr(1);
    }
    if (kind == "map" || kind == "m") get->set_kind(proto::TASK_MAP);
    else if (kind == "reduce" || kind == "r") get->set_kind(proto::TASK_REDUCE);
    bool bad_index = !index.empty() && (index.find_first_not_of("0123456789") != std::string::npos || index.size() > 9);
    if (get->kind() == proto::TASK_KIND_UNSPECIFIED || bad_index) {
      Fail(fmt::format("--task {}: expected map, reduce, map/N or reduce/N", task));
      return kExitUsage;
    }
    if (!index.empty()) {
      get->set_has_index(true);
      get->set_index(static_cast<uint32_t>(std::stoul(index)));
    }
  }
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  const auto& attempts = reply->logs_reply().attempts();
  if (c.json) {
    json arr = json::array();
    for (const auto& a : attempts) {
      arr.push_back({{"kind", TaskKindName(a.kind())}, {"index", a.index()}, {"attempt", a.attempt()},
                     {"worker", a.worker()}, {"outcome", a.outcome()}, {"log", a.log()},
                     {"user_stderr", a.user_stderr()}, {"stderr_truncated", a.stderr_truncated()},
                     {"unavailable", a.unavailable()}});
    }
    std::printf("%s\n", arr.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  for (const auto& a : attempts) {
    std::printf("==> %s %u attempt %u on %s (%s) <==\n", TaskKindName(a.kind()), a.index(), a.attempt(),
                a.worker().c_str(), a.outcome().c_str());
    if (!a.unavailable().empty()) std::printf("(no log: %s)\n", a.unavailable().c_str());
    std::fwrite(a.log().data(), 1, a.log().size(), stdout);
    if (!a.user_stderr().empty()) {
      std::printf("--- stderr of the user's code%s ---\n", a.stderr_truncated() ? " (its last 64 KiB)" : "");
      std::fwrite(a.user_stderr().data(), 1, a.user_stderr().size(), stdout);
      if (a.user_stderr().back() != '\n') std::printf("\n");
    }
    std::printf("\n");
  }
  return kExitOk;
}

int CmdKill(const ClientOptions& c, const std::string& job) {
  auto id = JobIdArgument(job);
  if (!id) return kExitUsage;
  proto::Envelope req;
  req.mutable_kill_job()->set_job_id(*id);
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  std::printf("job %lu killed\n", static_cast<unsigned long>(*id));
  return kExitOk;
}

}  // namespace mr
