// The worker's side of a task process: start it, serve its spills, feed a reduce its input, watch
// its progress, and say in one line how it ended.
#include "worker/task_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <new>
#include <optional>
#include <vector>

#include "common/credentials.h"
#include "common/gzip.h"
#include "common/line_reader.h"
#include "common/mapped_file.h"
#include "common/process.h"
#include "common/record.h"
#include "common/units.h"
#include "jobs/job.h"
#include "task_process.pb.h"
#include "worker/task_progress.h"
#include "worker/task_wire.h"

namespace mr {
namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

constexpr size_t kInputChunkBytes = 1u << 20;

std::string TaskName(const proto::AssignTask& t) {
  return fmt::format("{} {}", t.kind() == proto::TASK_MAP ? "map" : "reduce", t.index());
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("signal {} (SIG{})", sig, abbrev) : fmt::format("signal {}", sig);
}

// A descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Moves a descriptor to 10 or above, so that dup2 onto 3, 4 and 5 never meets one of them.
Status Raise(Fd& f) {
  int high = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0) return Status::FromErrno(errno, "cannot set up a task process");
  f.Close();
  f.fd = high;
  return Status::OK();
}

// "input record 50001 (byte 3145728 of /data/in.txt)": which record of the split's part `part`
// starts at `offset`, counted from the first record the split owns.
std::string DescribeRecord(const proto::AssignTask& task, uint32_t part, uint64_t offset) {
  const proto::InputSplit& split =
      task.split().parts_size() > 0 && part < static_cast<uint32_t>(task.split().parts_size())
          ? task.split().parts(static_cast<int>(part))
          : task.split();
  std::string where = fmt::format("byte {} of {}", offset, split.path());
  if (IsGzipPath(split.path())) return fmt::format("the input record at {} (uncompressed)", where);
  auto rsize = ParseInputFormat(task.input_format());
  auto file = MappedFile::Open(split.path());
  if (!rsize.ok() || !file.ok()) return "the input record at " + where;
  std::string_view data = (*file)->data();
  if (offset > data.size()) return "the input record at " + where;
  uint64_t number = 0;
  if (*rsize > 0) {
    number = (offset - std::min(offset, split.offset())) / *rsize + 1;
  } else {
    ByteRange owned = OwnedRange(data, split.offset(), split.offset() + split.length());
    uint64_t begin = std::min(owned.begin, offset);
    number = static_cast<uint64_t>(std::count(data.begin() + static_cast<ptrdiff_t>(begin),
                                              data.begin() + static_cast<ptrdiff_t>(offset), '\n')) + 1;
  }
  return fmt::format("input record {} ({})", number, where);
}

class TaskProcess {
 public:
  TaskProcess(const proto::AssignTask& task, const TaskProcessOptions& o, AttemptLog* log)
      : task_(task), o_(o), log_(log) {}

  ~TaskProcess() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      (void)Reap();
    }
    if (progress_ != nullptr) ::munmap(progress_, sizeof(TaskProgress));
  }

  // Starts the process and sends it the attempt (a reduce's input follows on kTaskInputFd).
  Status Start(const std::string& output_file) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return Status::FromErrno(errno, "cannot start a task process: socketpair", Status::Code::kResourceExhausted);
    }
    control_.fd = sv[0];
    Fd child_control(sv[1]);
    Fd child_input;
    if (task_.kind() == proto::TASK_REDUCE) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno(errno, "cannot start a task process: pipe", Status::Code::kResourceExhausted);
      child_input.fd = p[0];
      input_.fd = p[1];
      (void)::fcntl(input_.fd, F_SETPIPE_SZ, static_cast<int>(kInputChunkBytes));
      ::fcntl(input_.fd, F_SETFL, ::fcntl(input_.fd, F_GETFL) | O_NONBLOCK);
    } else {
      child_input.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    Fd memory(::memfd_create("mr-task-progress", MFD_CLOEXEC));
    if (memory.fd < 0 || ::ftruncate(memory.fd, sizeof(TaskProgress)) != 0) {
      return Status::FromErrno(errno, "cannot start a task process: memfd", Status::Code::kResourceExhausted);
    }
    void* page = ::mmap(nullptr, sizeof(TaskProgress), PROT_READ | PROT_WRITE, MAP_SHARED, memory.fd, 0);
    if (page == MAP_FAILED) return Status::FromErrno(errno, "cannot start a task process: mmap", Status::Code::kResourceExhausted);
    progress_ = new (page) TaskProgress();
    if (child_input.fd < 0) return Status::FromErrno(errno, "cannot start a task process", Status::Code::kResourceExhausted);
    for (Fd* f : {&child_control, &child_input, &memory}) MR_RETURN_IF_ERROR(Raise(*f));

    // Everything the child needs is made before it exists (posix_spawn may not allocate after).
    std::vector<std::string> env = ScrubbedEnvironment();
    std::vector<char*> envp;
    for (std::string& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    std::string name = AttemptName(task_);
    std::vector<std::string> args = {o_.program, "task-process", name};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, child_control.fd, kTaskControlFd);
    posix_spawn_file_actions_adddup2(&actions, child_input.fd, kTaskInputFd);
    posix_spawn_file_actions_adddup2(&actions, memory.fd, kTaskProgressFd);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: killing it kills its commands too
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    int err = ::posix_spawn(&pid, o_.program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
      return Status::FromErrno(err, fmt::format("cannot start a task process ({})", o_.program),
                               Status::Code::kResourceExhausted);
    }
    pid_ = pid;
    proto::TaskProcessStart start;
    *start.mutable_task() = task_;
    // What only the worker's fetches need stays in the worker.
    start.mutable_task()->clear_shuffle_secret();
    start.mutable_task()->clear_map_output_groups();
    start.set_threads(static_cast<uint32_t>(std::max(1, o_.threads)));
    start.set_buffer_bytes(o_.buffer_bytes);
    start.set_spill_dir(o_.spill_dir);
    start.set_memory_limit(o_.memory_limit);
    start.set_output_file(output_file);
    start.set_work_dir(o_.work_dir);
    // A task process that died at once is told apart below, by its exit.
    (void)WriteTaskMessage(control_.fd, start);
    return Status::OK();
  }

  // Serves the task process until it ends; then its result, or why it has none.
  Result<CounterSet> Serve(SpillStore* store, RunMerger* input, proto::SkippedRecord* bad_record) {
    store_ = store;
    bad_out_ = bad_record;
    input_source_ = input;
    uint64_t last_ticks = 0;
    Clock::time_point last_progress = Clock::now();
    bool control_open = true;
    while (control_open) {
      pollfd fds[2];
      int n = 0;
      fds[n++] = {control_.fd, POLLIN, 0};
      int input_idx = -1;
      if (input_.fd >= 0) {
        if (pending_.size() == pending_pos_) MR_RETURN_IF_ERROR(Kill(FillInput()));
        if (input_.fd >= 0) fds[input_idx = n++] = {input_.fd, POLLOUT, 0};
      }
      int ready = ::poll(fds, n, 200);
      if (ready < 0 && errno != EINTR) return Kill(Status::FromErrno(errno, "poll"));
      // Progress: the task process's records and groups, and also a spill it hands over (a map
      // sorting and spilling its last buffer maps no record) or input it takes (a reduce whose
      // input is slow to arrive).
      bool moved = false;
      if (ready > 0 && fds[0].revents) {
        Status s = OnControl();
        if (s.code() == Status::Code::kProtocol) return Kill(s);
        // Otherwise an error is the task process's end (perhaps in the middle of a message):
        // how it ended says why.
        if (!s.ok()) control_open = false;
        moved = s.ok();
      }
      if (ready > 0 && input_idx >= 0 && fds[input_idx].revents) moved |= WriteInput();
      if (o_.cancel && o_.cancel->load(std::memory_order_relaxed)) return Kill(Status::Aborted("attempt cancelled"));
      uint64_t ticks = progress_->Ticks();
      if (ticks != last_ticks || moved) {
        last_ticks = ticks;
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > o_.timeout) {
        return Kill(Status::Aborted(fmt::format("{} made no progress for {} (--task-timeout): its task process was killed{}",
                                                TaskName(task_), FormatDuration(o_.timeout), CurrentRecord())));
      }
    }
    ExitInfo exit = Reap();
    if (result_) {
      if (!result_->log().empty()) log_->Lines(result_->log());
      if (!result_->user_stderr().empty()) log_->Stderr(result_->user_stderr());
    }
    if (result_ && result_->ok() && exit.exited && exit.code == 0) {
      CounterSet counters;
      for (const auto& [k, v] : result_->counters()) counters.Add(k, v);
      return counters;
    }
    if (result_ && !result_->ok()) {
      if (result_->out_of_memory()) {
        return Status::Aborted(fmt::format("{} ran out of memory in its task process: the limit is {} (--task-memory){}",
                                           TaskName(task_), FormatBytes(o_.memory_limit), CurrentRecord()));
      }
      std::string error = result_->error();
      if (error.starts_with(kJobThrew)) error = fmt::format("{}: {}{}", TaskName(task_), error, CurrentRecord());
      if (result_->has_bad_record()) error += TracedRecord(result_->bad_record());
      return result_->resource_exhausted() ? Status::ResourceExhausted(error) : Status::Aborted(error);
    }
    return Status::Aborted(Death(exit));
  }

 private:
  // Answers one request of the task process. NotFound at the end of its stream; Protocol for a
  // request it may not make.
  Status OnControl() {
    proto::TaskProcessRequest req;
    MR_RETURN_IF_ERROR(ReadTaskMessage(control_.fd, &req));
    proto::TaskProcessAck ack;
    Status s;
    if (req.has_result()) {
      result_ = std::move(*req.mutable_result());
      return Status::OK();  // no answer: it exits now
    } else if (store_ == nullptr) {
      s = Status::Protocol("a reduce's task process sent map output");
    } else if (req.kind_case() == proto::TaskProcessRequest::kIngestSpill) {
      // Only a file of its own in the spill directory: the store moves it, so nothing else may be named.
      const std::string& path = req.ingest_spill();
      const std::string prefix = o_.spill_dir + "/t";
      if (!path.starts_with(prefix) || path.find('/', prefix.size()) != std::string::npos || path.find("..") != std::string::npos) {
        return Status::Protocol(fmt::format("a task process named {} as its spill", path));
      }
      s = store_->IngestSpill(path);
    } else if (req.has_write_batch()) {
      const proto::SpillBatch& b = req.write_batch();
      std::vector<std::pair<std::string, std::string>> entries;
      for (int i = 0; i < b.keys_size() && i < b.values_size(); i++) entries.emplace_back(b.keys(i), b.values(i));
      s = store_->WriteSpillBatch(entries);
    } else if (req.has_map_output_complete()) {
      s = store_->MarkMapOutputComplete({task_.job_id(), task_.index(), task_.attempt()});
    } else {
      return Status::Protocol("an unknown request from a task process");
    }
    ack.set_ok(s.ok());
    ack.set_error(s.message());
    return WriteTaskMessage(control_.fd, ack);
  }

  // Refills pending_ from the merged input; closes the input at its end.
  Status FillInput() {
    pending_.clear();
    pending_pos_ = 0;
    while (!input_source_->empty() && pending_.size() < kInputChunkBytes) {
      AppendRecord(&pending_, input_source_->top_key(), input_source_->top_value());
      MR_RETURN_IF_ERROR(input_source_->Pop());
    }
    if (pending_.empty()) input_.Close();
    return Status::OK();
  }

  // Writes what it can of pending_; true when some of it went.
  bool WriteInput() {
    ssize_t w = ::write(input_.fd, pending_.data() + pending_pos_, pending_.size() - pending_pos_);
    if (w > 0) {
      pending_pos_ += static_cast<size_t>(w);
      return true;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) input_.Close();  // it stopped reading (it ended): how it ended decides
    return false;
  }

  // Kills the task process group; returns `why`.
  Status Kill(Status why) {
    if (why.ok()) return why;
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      (void)Reap();
    }
    return why;
  }

  ExitInfo Reap() {
    ExitInfo info;
    if (pid_ <= 0) return info;
    int status = 0;
    rusage usage{};
    pid_t r;
    do {
      r = ::wait4(pid_, &status, 0, &usage);
    } while (r < 0 && errno == EINTR);
    ::kill(-pid_, SIGKILL);  // a command it left behind
    pid_ = -1;
    info.exited = WIFEXITED(status);
    info.code = info.exited ? WEXITSTATUS(status) : 0;
    info.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    info.max_rss_kb = usage.ru_maxrss;
    return info;
  }

  // The slot of the map thread an attempt's failure belongs to: the one a fatal signal hit, else
  // the only one that was inside the mapper; -1 when none can be told.
  int FaultySlot() const {
    if (task_.kind() != proto::TASK_MAP) return -1;
    int slot = progress_->crashed_slot.load();
    if (slot >= 0 && slot < TaskProgress::kSlots && progress_->slots[slot].offset.load() != ProgressSlot::kNone) {
      return slot;
    }
    slot = -1;
    for (int i = 0; i < TaskProgress::kSlots; i++) {
      if (progress_->slots[i].offset.load() == ProgressSlot::kNone) continue;
      if (slot >= 0) return -1;
      slot = i;
    }
    return slot;
  }

  // " at input record N (...)": the record the map's code was on when the attempt failed, or "".
  // A plugin's single record is also the attempt's bad record (*bad_out_).
  std::string CurrentRecord() {
    int slot = FaultySlot();
    if (slot < 0) return "";
    const ProgressSlot& s = progress_->slots[slot];
    const uint32_t part = s.part.load();
    const uint64_t offset = s.offset.load();
    std::string what = DescribeRecord(task_, part, offset);
    if (s.block.load()) return " in the block of records from " + what;
    if (bad_out_ != nullptr && !task_.job_lib().empty()) {
      bad_out_->set_part(part);
      bad_out_->set_offset(offset);
      bad_out_->set_description(what);
    }
    return " at " + what;
  }

  // " at input record N (...)" for the record a map's streaming command was traced to failing on;
  // it is also the attempt's bad record.
  std::string TracedRecord(const proto::SkippedRecord& r) {
    std::string what = DescribeRecord(task_, r.part(), r.offset());
    if (bad_out_ != nullptr) {
      *bad_out_ = r;
      bad_out_->set_description(what);
    }
    return " (traced to " + what + ")";
  }

  std::string Death(const ExitInfo& exit) {
    std::string how = exit.exited ? fmt::format("exited with code {} without a result", exit.code)
                                  : "died of " + SignalName(exit.signal);
    std::string memory;
    if (o_.memory_limit > 0 && static_cast<uint64_t>(exit.max_rss_kb) * 1024 >= o_.memory_limit * 9 / 10) {
      memory = fmt::format(" (it used {} of its {} memory limit, --task-memory)", FormatBytes(exit.max_rss_kb * 1024ull),
                           FormatBytes(o_.memory_limit));
    }
    return fmt::format("the task process of {} {}{}{}", TaskName(task_), how, CurrentRecord(), memory);
  }

  const proto::AssignTask& task_;
  const TaskProcessOptions& o_;
  AttemptLog* log_;
  pid_t pid_ = -1;
  Fd control_;
  Fd input_;
  TaskProgress* progress_ = nullptr;
  SpillStore* store_ = nullptr;
  RunMerger* input_source_ = nullptr;
  std::string pending_;
  size_t pending_pos_ = 0;
  std::optional<proto::TaskProcessResult> result_;
  proto::SkippedRecord* bad_out_ = nullptr;
};

}  // namespace

std::string AttemptName(const proto::AssignTask& t) {
  return fmt::format("job-{}/{}{}/a{}", t.job_id(), t.kind() == proto::TASK_MAP ? "m" : "r", t.index(), t.attempt());
}

uint64_t DefaultTaskMemory(int slots) {
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page = ::sysconf(_SC_PAGESIZE);
  uint64_t total = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
  return std::max<uint64_t>(1ull << 30, total / (2 * static_cast<uint64_t>(std::max(1, slots))));
}

Result<CounterSet> RunMapInTaskProcess(const proto::AssignTask& task, SpillStore* store,
                                       const TaskProcessOptions& options, AttemptLog* log,
                                       proto::SkippedRecord* bad_record) {
  TaskProcess p(task, options, log);
  MR_RETURN_IF_ERROR(p.Start(""));
  return p.Serve(store, nullptr, bad_record);
}

Result<CounterSet> ReduceInTaskProcess(const proto::AssignTask& task, RunMerger& merged,
                                       const std::string& output_file, const TaskProcessOptions& options,
                                       AttemptLog* log) {
  TaskProcess p(task, options, log);
  MR_RETURN_IF_ERROR(p.Start(output_file));
  return p.Serve(nullptr, &merged, nullptr);
}

}  // namespace mr
