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
#include <functional>
#include <optional>

#include <string>
#include <vector>

#include "common/credentials.h"
#include "jobs/identity_reducer.h"

namespace mr {
namespace {

constexpr size_t kMaxLine = 64u << 20;
constexpr size_t kInputHighWater = 256u << 10;
constexpr size_t kStderrTail = 2048;

using LineFn = std::function<void(std::string_view)>;

// A shell command with its stdin, stdout and stderr on pipes, driven by poll() from the calling
// thread, so a child that writes while we write never deadlocks us.
class Subprocess {
 public:
  Subprocess(std::string command, AttemptLog* log) : command_(std::move(command)), log_(log) {}
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
    // threaded process): this process's, without any credential (common/credentials.h).
    std::vector<std::string> env = ScrubbedEnvironment();
    std::vector<char*> envp;
    for (std::string& kv : env) envp.push_back(kv.data());
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
        stderr_.append(buf, r);
        if (log_ != nullptr) log_->Stderr(std::string_view(buf, r));
        if (stderr_.size() > kStderrTail) stderr_.erase(0, stderr_.size() - kStderrTail);
      } else if (r == 0 || errno != EAGAIN) {
        ::close(err_);
        err_ = -1;
      }
    }
  }

  std::string command_;
  AttemptLog* log_;
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

// Runs one command for the life of a mapper or reducer; failures go to the task context.
class StreamingProcess {
 public:
  StreamingProcess(const std::string& role, const std::string& command, const TaskContext& ctx, AttemptLog* log)
      : role_(role), proc_(command, log), ctx_(ctx) {}

  void Write(std::string_view data, Emitter& out) {
    if (failed_) return;
    if (!started_) {
      started_ = true;
      if (Check(proc_.Start())) return;
    }
    Check(proc_.Write(data, [&out](std::string_view l) { EmitLine(l, out); }));
  }
  void Finish(Emitter& out) {
    if (failed_) return;
    if (!started_) {
      started_ = true;
      if (Check(proc_.Start())) return;
    }
    Check(proc_.Finish([&out](std::string_view l) { EmitLine(l, out); }));
  }
  // True when this command failed the attempt.
  bool failed() const { return failed_; }

 private:
  // True when the attempt has failed.
  bool Check(const Status& s) {
    if (s.ok()) return false;
    failed_ = true;
    ctx_.Fail(fmt::format("streaming {} {}", role_, s.message()));
    return true;
  }
  std::string role_;
  Subprocess proc_;
  TaskContext ctx_;
  bool started_ = false;
  bool failed_ = false;
};

// The records a streaming mapper fed its command, kept to trace a failure to one of them.
class FedRecords {
 public:
  void Add(const InputRecord& r) {
    if (files_.empty() || files_.back().second != r.file) files_.emplace_back(offsets_.size(), std::string(r.file));
    text_.append(r.line);
    text_.push_back('\n');
    ends_.push_back(text_.size());
    offsets_.push_back(r.offset);
  }
  size_t size() const { return ends_.size(); }
  // The lines of records [lo, hi), each with its '\n'.
  std::string_view Lines(size_t lo, size_t hi) const {
    size_t b = lo == 0 ? 0 : ends_[lo - 1];
    return std::string_view(text_).substr(b, ends_[hi - 1] - b);
  }
  BlamingMapper::Record Where(size_t i) const {
    auto it = std::upper_bound(files_.begin(), files_.end(), i,
                               [](size_t v, const auto& f) { return v < f.first; });
    return {std::prev(it)->second, offsets_[i]};
  }

 private:
  std::string text_;
  std::vector<size_t> ends_;
  std::vector<uint64_t> offsets_;
  std::vector<std::pair<size_t, std::string>> files_;  // (first record, file) as the file changes
};

class StreamingMapper : public Mapper, public BlamingMapper {
 public:
  StreamingMapper(const std::string& cmd, const TaskContext& ctx, AttemptLog* log)
      : command_(cmd), proc_("mapper", cmd, ctx, log) {}
  void Map(const InputRecord& record, Emitter& out) override {
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
    return fed_.Where(lo);
  }

 private:
  // Whether the command fails on records [lo, hi) alone; an error when it cannot be run.
  Result<bool> FailsOn(size_t lo, size_t hi, const std::function<void()>& tick) {
    Subprocess probe(command_, nullptr);
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

  std::string command_;
  StreamingProcess proc_;
  std::string line_;
  bool keep_ = false;
  FedRecords fed_;
};

class StreamingReducer : public Reducer {
 public:
  StreamingReducer(const std::string& role, const std::string& cmd, const TaskContext& ctx, AttemptLog* log)
      : proc_(role, cmd, ctx, log) {}
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    std::string_view v;
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
  StreamingProcess proc_;
  std::string line_;
};

class StreamingJob : public Job {
 public:
  StreamingJob(std::string mapper, std::string reducer, std::string combiner, AttemptLog* log)
      : mapper_(std::move(mapper)), reducer_(std::move(reducer)), combiner_(std::move(combiner)), log_(log) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<StreamingMapper>(mapper_, ctx, log_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const override {
    if (reducer_.empty()) return NewIdentityReducer();
    return std::make_unique<StreamingReducer>("reducer", reducer_, ctx, log_);
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const override {
    if (combiner_.empty()) return nullptr;
    return std::make_unique<StreamingReducer>("combiner", combiner_, ctx, log_);
  }

 private:
  std::string mapper_, reducer_, combiner_;
  AttemptLog* log_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeStreamingJob(const std::string& mapper, const std::string& reducer,
                                              const std::string& combiner, const JobArgs& args,
                                              AttemptLog* log) {
  if (mapper.empty()) return Status::InvalidArgument("a streaming job needs --mapper");
  if (!args.empty()) {
    return Status::InvalidArgument("streaming jobs take no --arg (pass options in the commands)");
  }
  return std::unique_ptr<Job>(new StreamingJob(mapper, reducer, combiner, log));
}

}  // namespace mr
