#include "jobs/streaming.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <set>

#include <string>
#include <vector>

#include "common/credentials.h"
#include "jobs/key_fields.h"
#include "jobs/streaming_env.h"
#include "jobs/identity_reducer.h"

namespace mr {
namespace {

constexpr size_t kMaxLine = 64u << 20;
constexpr size_t kInputHighWater = 256u << 10;
constexpr size_t kStderrTail = 2048;
constexpr char kReporterPrefix[] = "reporter:";
// Counter names one command may report: Hadoop fails a job past its 120; mr allows what a report
// carries (worker/task_report.h).
constexpr size_t kMaxReportedCounters = 1000;

using LineFn = std::function<void(std::string_view)>;
using ReportFn = std::function<Status(std::string_view)>;

// A shell command with its stdin, stdout and stderr on pipes, driven by poll() from the calling
// thread, so a child that writes while we write never deadlocks us.
class Subprocess {
 public:
  // `env`: the command's whole environment (jobs/streaming_env.h). `on_report`, when set, gets each
  // stderr line that starts with "reporter:" (Hadoop's counters and status) instead of the log.
  Subprocess(std::string command, std::vector<std::string> env, AttemptLog* log, ReportFn on_report = nullptr)
      : command_(std::move(command)), env_(std::move(env)), log_(log), on_report_(std::move(on_report)) {}
  ~Subprocess() {
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) ::close(fd);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  Status Start() {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
      return Status::FromErrno(errno, "pipe");
    }
    // The child's environment is made before the fork (nothing may allocate after it in a
    // threaded process).
    std::vector<char*> envp;
    for (std::string& kv : env_) envp.push_back(kv.data());
    envp.push_back(nullptr);
    const char* argv[] = {"sh", "-c", command_.c_str(), nullptr};
    pid_ = ::fork();
    if (pid_ < 0) return Status::FromErrno(errno, "fork");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::signal(SIGPIPE, SIG_DFL);
      ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    for (int fd : {in_, out_, err_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return Status::OK();
  }

  // Queues input; pumps while too much is queued. on_line gets each complete stdout line.
  Status Write(std::string_view data, const LineFn& on_line) {
    if (in_ >= 0) input_.append(data);
    while (status_.ok() && in_ >= 0 && input_.size() - input_pos_ > kInputHighWater) Pump(on_line);
    return status_;
  }

  // Sends the rest of the input, closes stdin, reads all output and waits for the exit.
  Status Finish(const LineFn& on_line) {
    while (status_.ok() && in_ >= 0 && input_pos_ < input_.size()) Pump(on_line);
    CloseInput();
    while (status_.ok() && (out_ >= 0 || err_ >= 0)) Pump(on_line);
    if (!status_.ok()) return status_;
    if (!output_.empty()) on_line(output_);  // a last line without '\n'
    if (!err_line_.empty()) StderrLine(err_line_, false);
    int wstatus = 0;
    ::waitpid(pid_, &wstatus, 0);
    pid_ = -1;
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::OK();
    std::string how = WIFEXITED(wstatus) ? fmt::format("exited with code {}", WEXITSTATUS(wstatus))
                                         : fmt::format("was killed by signal {}", WTERMSIG(wstatus));
    return Fail(how);
  }

 private:
  Status Fail(const std::string& what) {
    std::string tail = stderr_;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    status_ = Status::Aborted(fmt::format("'{}' {}{}", command_, what, tail.empty() ? "" : "; stderr: " + tail));
    return status_;
  }

  void CloseInput() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }

  void Pump(const LineFn& on_line) {
    pollfd fds[3];
    int n = 0;
    int in_idx = -1, out_idx = -1, err_idx = -1;
    if (in_ >= 0 && input_pos_ < input_.size()) fds[in_idx = n++] = {in_, POLLOUT, 0};
    if (out_ >= 0) fds[out_idx = n++] = {out_, POLLIN, 0};
    if (err_ >= 0) fds[err_idx = n++] = {err_, POLLIN, 0};
    if (n == 0) return;
    if (::poll(fds, n, -1) < 0) {
      if (errno != EINTR) (void)Fail(fmt::format("could not be polled: {}", std::strerror(errno)));
      return;
    }
    if (in_idx >= 0 && fds[in_idx].revents) {
      ssize_t w = ::write(in_, input_.data() + input_pos_, input_.size() - input_pos_);
      if (w > 0) {
        input_pos_ += w;
        if (input_pos_ == input_.size() || input_pos_ > (1u << 20)) {
          input_.erase(0, input_pos_);
          input_pos_ = 0;
        }
      } else if (w < 0 && errno != EAGAIN) {
        // The command stopped reading (exited, or closed stdin): its exit status decides.
        input_.clear();
        input_pos_ = 0;
        CloseInput();
      }
    }
    char buf[64 << 10];
    if (out_idx >= 0 && fds[out_idx].revents) {
      ssize_t r = ::read(out_, buf, sizeof(buf));
      if (r > 0) {
        output_.append(buf, r);
        size_t start = 0;
        for (size_t nl; (nl = output_.find('\n', start)) != std::string::npos; start = nl + 1) {
          on_line(std::string_view(output_).substr(start, nl - start));
        }
        output_.erase(0, start);
        if (output_.size() > kMaxLine) (void)Fail("wrote a line longer than 64 MiB");
      } else if (r == 0 || errno != EAGAIN) {
        ::close(out_);
        out_ = -1;
      }
    }
    if (err_idx >= 0 && fds[err_idx].revents) {
      ssize_t r = ::read(err_, buf, sizeof(buf));
      if (r > 0) {
        err_line_.append(buf, r);
        size_t start = 0;
        for (size_t nl; (nl = err_line_.find('\n', start)) != std::string::npos; start = nl + 1) {
          StderrLine(std::string_view(err_line_).substr(start, nl - start), true);
        }
        err_line_.erase(0, start);
        // A line that never ends goes to the log as it comes.
        if (err_line_.size() > kStderrTail) {
          StderrLine(err_line_, false);
          err_line_.clear();
        }
      } else if (r == 0 || errno != EAGAIN) {
        ::close(err_);
        err_ = -1;
      }
    }
  }

  // One line of the command's stderr (`ended`: it had its '\n'): a report, or kept for the log and
  // the error's tail.
  void StderrLine(std::string_view line, bool ended) {
    if (ended && on_report_ && line.starts_with(kReporterPrefix)) {
      if (Status s = on_report_(line.substr(sizeof(kReporterPrefix) - 1)); !s.ok()) (void)Fail(s.message());
      return;
    }
    std::string bytes(line);
    if (ended) bytes.push_back('\n');
    stderr_.append(bytes);
    if (log_ != nullptr) log_->Stderr(bytes);
    if (stderr_.size() > kStderrTail) stderr_.erase(0, stderr_.size() - kStderrTail);
  }

  std::string command_;
  std::vector<std::string> env_;
  AttemptLog* log_;
  ReportFn on_report_;
  std::string err_line_;  // stderr since its last '\n'
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string input_;
  size_t input_pos_ = 0;
  std::string output_;
  std::string stderr_;
  Status status_;
};

void EmitLine(std::string_view line, Emitter& out) {
  size_t tab = line.find('\t');
  if (tab == std::string_view::npos) out.Emit(line, "");
  else out.Emit(line.substr(0, tab), line.substr(tab + 1));
}

// What a job's streaming commands share: the commands' job, the attempt and where its reports go.
struct StreamingSetup {
  JobArgs args;
  KeySpec keys;  // how map output lines become keys (jobs/key_fields.h)
  std::optional<TaskIdentity> task;
  AttemptLog* log = nullptr;
  std::function<void()> progress;
};

// Hadoop's reporter lines from a command's stderr, without their "reporter:" prefix:
// "counter:GROUP,NAME,AMOUNT" adds AMOUNT to the job counter GROUP.NAME; "status:MESSAGE" is the
// attempt's status, kept in its log. Either is progress for --task-timeout. Anything else is
// left in the stderr log with a note.
class Reports {
 public:
  Reports(const StreamingSetup& setup, Counters* counters) : setup_(setup), counters_(counters) {}

  Status On(std::string_view report) {
    if (setup_.progress) setup_.progress();
    if (report.starts_with("counter:")) {
      std::string_view spec = report.substr(8);
      size_t c1 = spec.find(','), c2 = c1 == std::string_view::npos ? c1 : spec.find(',', c1 + 1);
      int64_t amount = 0;
      bool parsed = c2 != std::string_view::npos && spec.find(',', c2 + 1) == std::string_view::npos && c1 > 0 &&
                    c2 > c1 + 1 && ParseAmount(spec.substr(c2 + 1), &amount);
      if (!parsed) return Note(report, "want reporter:counter:GROUP,NAME,AMOUNT");
      std::string name = fmt::format("{}.{}", spec.substr(0, c1), spec.substr(c1 + 1, c2 - c1 - 1));
      if (!names_.contains(name)) {
        if (names_.size() >= kMaxReportedCounters) {
          return Status::ResourceExhausted(fmt::format(
              "reported more than {} counters (reporter:counter lines; the last was {})", kMaxReportedCounters, name));
        }
        names_.insert(name);
      }
      if (counters_ != nullptr) counters_->Add(name, amount);
      return Status::OK();
    }
    if (report.starts_with("status:")) {
      std::string_view status = report.substr(7);
      if (status != last_status_ && setup_.log != nullptr) setup_.log->Line(fmt::format("status: {}", status));
      last_status_.assign(status);
      return Status::OK();
    }
    return Note(report, "want reporter:counter:GROUP,NAME,AMOUNT or reporter:status:MESSAGE");
  }

 private:
  static bool ParseAmount(std::string_view text, int64_t* out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return ec == std::errc() && end == text.data() + text.size();
  }
  Status Note(std::string_view report, const char* want) {
    if (setup_.log != nullptr) setup_.log->Stderr(fmt::format("reporter:{}  (not understood: {})\n", report, want));
    return Status::OK();
  }

  const StreamingSetup& setup_;
  Counters* counters_;
  std::set<std::string, std::less<>> names_;
  std::string last_status_;
};

// Runs one command for the life of a mapper's input file or of a reducer; failures go to the task
// context.
class StreamingProcess {
 public:
  StreamingProcess(const std::string& role, const std::string& command, const TaskContext& ctx,
                   const StreamingSetup& setup)
      : role_(role), command_(command), ctx_(ctx), setup_(setup), reports_(setup, ctx.counters),
        split_keys_(role != "reducer" && !setup.keys.plain()) {}

  // The environment the next process gets (jobs/streaming_env.h).
  std::vector<std::string> Environment(const InputSplitInfo* input) const {
    return StreamingEnvironment(setup_.args, setup_.task ? &*setup_.task : nullptr, input);
  }
  // After Finish: the next Write starts a new process, with `env`.
  void Reset(std::vector<std::string> env) {
    env_ = std::move(env);
    proc_.reset();
  }

  void Write(std::string_view data, Emitter& out) {
    if (failed_ || !Started()) return;
    Check(proc_->Write(data, [this, &out](std::string_view l) { Emit(l, out); }));
  }
  void Finish(Emitter& out) {
    if (failed_ || !Started()) return;
    Check(proc_->Finish([this, &out](std::string_view l) { Emit(l, out); }));
  }
  // True when this command failed the attempt.
  bool failed() const { return failed_; }
  const std::vector<std::string>& env() const { return env_; }
  const std::string& command() const { return command_; }

 private:
  // One output line: a map-side command's (mapper, combiner) is split by the job's key fields and
  // its key stored as the engine sorts it; a reducer's goes out as key<TAB>value.
  void Emit(std::string_view line, Emitter& out) {
    if (!split_keys_) return EmitLine(line, out);
    std::string_view key, value;
    SplitLine(setup_.keys, line, &key, &value);
    EncodeKey(setup_.keys, key, &stored_key_);
    out.Emit(stored_key_, value);
  }
  // Starts the process when none runs; false when the attempt has failed.
  bool Started() {
    if (proc_ != nullptr) return true;
    if (env_.empty()) env_ = Environment(nullptr);
    proc_ = std::make_unique<Subprocess>(command_, env_, setup_.log,
                                         [this](std::string_view r) { return reports_.On(r); });
    return !Check(proc_->Start());
  }
  // True when the attempt has failed.
  bool Check(const Status& s) {
    if (s.ok()) return false;
    failed_ = true;
    ctx_.Fail(fmt::format("streaming {} {}", role_, s.message()));
    return true;
  }
  std::string role_;
  std::string command_;
  TaskContext ctx_;
  const StreamingSetup& setup_;
  Reports reports_;
  std::vector<std::string> env_;
  std::unique_ptr<Subprocess> proc_;
  bool failed_ = false;
  const bool split_keys_;  // a map-side command of a job with key fields
  std::string stored_key_;
};

// The records a streaming mapper fed its current command, kept to trace a failure to one of them.
class FedRecords {
 public:
  void Add(const InputRecord& r) {
    text_.append(r.line);
    text_.push_back('\n');
    ends_.push_back(text_.size());
    offsets_.push_back(r.offset);
  }
  void Clear() {
    text_.clear();
    ends_.clear();
    offsets_.clear();
  }
  size_t size() const { return ends_.size(); }
  // The lines of records [lo, hi), each with its '\n'.
  std::string_view Lines(size_t lo, size_t hi) const {
    size_t b = lo == 0 ? 0 : ends_[lo - 1];
    return std::string_view(text_).substr(b, ends_[hi - 1] - b);
  }
  uint64_t Offset(size_t i) const { return offsets_[i]; }

 private:
  std::string text_;
  std::vector<size_t> ends_;
  std::vector<uint64_t> offsets_;
};

// One command per input file: a combined split's next file gets a new process, whose variables
// name that file (as CombineFileInputFormat updates mapreduce_map_input_file).
class StreamingMapper : public Mapper, public BlamingMapper {
 public:
  StreamingMapper(const std::string& cmd, const TaskContext& ctx, const StreamingSetup& setup)
      : setup_(setup), proc_("mapper", cmd, ctx, setup) {}
  void Map(const InputRecord& record, Emitter& out) override {
    if (!started_ || record.file != file_) NextFile(record, out);
    if (proc_.failed()) return;  // the attempt is over; the records fed before are the suspects
    if (keep_) fed_.Add(record);
    line_.assign(record.line);
    line_.push_back('\n');
    proc_.Write(line_, out);
  }
  void Finish(Emitter& out) override { proc_.Finish(out); }

  void KeepRecords() override { keep_ = true; }

  // Bisection, as Hadoop narrows its skip ranges: the command, run afresh on the first half of
  // the suspects (its output thrown away), fails or not; the failing half holds the record. About
  // log2(records) runs that together read the suspects about once, and a last run on the record
  // alone to confirm it.
  std::optional<Record> Blame(const std::function<void()>& tick) override {
    if (!keep_ || !proc_.failed() || fed_.size() == 0) return std::nullopt;
    size_t lo = 0, hi = fed_.size();
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      Result<bool> fails = FailsOn(lo, mid, tick);
      if (!fails.ok()) return std::nullopt;
      if (*fails) hi = mid;
      else lo = mid;
    }
    Result<bool> alone = FailsOn(lo, lo + 1, tick);
    if (!alone.ok() || !*alone) return std::nullopt;
    return Record{file_, fed_.Offset(lo)};
  }

 private:
  void NextFile(const InputRecord& record, Emitter& out) {
    if (started_) {
      proc_.Finish(out);  // the previous file's process, its output emitted
      if (proc_.failed()) return;
      fed_.Clear();  // only the new process's records are suspects
    }
    file_.assign(record.file);
    const InputSplitInfo* input = nullptr;
    if (setup_.task) {
      for (const InputSplitInfo& in : setup_.task->inputs) {
        if (in.path != file_) continue;
        if (input == nullptr || (record.offset >= in.offset && record.offset <= in.offset + in.length)) input = &in;
      }
    }
    started_ = true;
    proc_.Reset(proc_.Environment(input));
  }

  // Whether the command fails on records [lo, hi) alone; an error when it cannot be run.
  Result<bool> FailsOn(size_t lo, size_t hi, const std::function<void()>& tick) {
    Subprocess probe(proc_.command(), proc_.env(), nullptr, [](std::string_view) { return Status::OK(); });
    MR_RETURN_IF_ERROR(probe.Start());
    auto drop = [](std::string_view) {};
    std::string_view lines = fed_.Lines(lo, hi);
    constexpr size_t kChunk = 1u << 20;
    for (size_t pos = 0; pos < lines.size(); pos += kChunk) {
      if (!probe.Write(lines.substr(pos, kChunk), drop).ok()) return true;
      tick();
    }
    return !probe.Finish(drop).ok();
  }

  const StreamingSetup& setup_;
  StreamingProcess proc_;
  std::string file_;
  bool started_ = false;
  std::string line_;
  bool keep_ = false;
  FedRecords fed_;
};

class StreamingReducer : public Reducer {
 public:
  StreamingReducer(const std::string& role, const std::string& cmd, const TaskContext& ctx,
                   const StreamingSetup& setup)
      : setup_(setup), proc_(role, cmd, ctx, setup) {}
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    std::string_view v;
    key = DecodeKey(setup_.keys, key);
    while (values.Next(&v)) {
      line_.assign(key);
      line_.push_back('\t');
      line_.append(v);
      line_.push_back('\n');
      proc_.Write(line_, out);
    }
  }
  void Finish(Emitter& out) override { proc_.Finish(out); }

 private:
  const StreamingSetup& setup_;
  StreamingProcess proc_;
  std::string line_;
};

// The identity reducer of a job whose keys are stored encoded (--sort-by): writes the keys back.
class DecodingReducer : public Reducer {
 public:
  DecodingReducer(const KeySpec& keys, std::unique_ptr<Reducer> inner) : keys_(keys), inner_(std::move(inner)) {}
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    inner_->Reduce(DecodeKey(keys_, key), values, out);
  }
  void Finish(Emitter& out) override { inner_->Finish(out); }

 private:
  const KeySpec& keys_;
  std::unique_ptr<Reducer> inner_;
};

// --partition-by: the reducer of a key is picked by those of its fields.
class KeyFieldPartitioner : public Partitioner {
 public:
  explicit KeyFieldPartitioner(const KeySpec& keys) : keys_(keys) {}
  uint32_t Partition(std::string_view key, uint32_t reducers) const override {
    return PartitionKey(keys_, DecodeKey(keys_, key), reducers);
  }

 private:
  const KeySpec& keys_;
};

class StreamingJob : public Job {
 public:
  StreamingJob(std::string mapper, std::string reducer, std::string combiner, StreamingSetup setup)
      : mapper_(std::move(mapper)), reducer_(std::move(reducer)), combiner_(std::move(combiner)),
        setup_(std::move(setup)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<StreamingMapper>(mapper_, ctx, setup_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const override {
    if (reducer_.empty() && setup_.keys.sort.empty()) return NewIdentityReducer();
    if (reducer_.empty()) return std::make_unique<DecodingReducer>(setup_.keys, NewIdentityReducer());
    return std::make_unique<StreamingReducer>("reducer", reducer_, ctx, setup_);
  }
  std::unique_ptr<Partitioner> NewPartitioner() const override {
    if (setup_.keys.partition.empty()) return nullptr;
    return std::make_unique<KeyFieldPartitioner>(setup_.keys);
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const override {
    if (combiner_.empty()) return nullptr;
    return std::make_unique<StreamingReducer>("combiner", combiner_, ctx, setup_);
  }

 private:
  std::string mapper_, reducer_, combiner_;
  StreamingSetup setup_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeStreamingJob(const JobDefinition& def) {
  if (def.mapper.empty()) return Status::InvalidArgument("a streaming job needs --mapper");
  auto keys = ParseKeySpec(def.args);
  if (!keys.ok()) return keys.status();
  StreamingSetup setup{def.args, std::move(*keys), std::nullopt, def.log, def.progress};
  if (def.task != nullptr) setup.task = *def.task;
  // A map-only job's output is its maps' lines split at the key fields: nothing is partitioned or
  // sorted, so the comparator and partitioner options do nothing (as in Hadoop).
  if (def.task != nullptr && def.task->reducers == 0) {
    setup.keys.sort.clear();
    setup.keys.partition.clear();
  }
  return std::unique_ptr<Job>(new StreamingJob(def.mapper, def.reducer, def.combiner, std::move(setup)));
}

}  // namespace mr
