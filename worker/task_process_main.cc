// The task process's side (worker/task_process.h): `mr task-process ATTEMPT`. It runs one attempt
// of a job's own code and reports to its worker; whatever that code does, only this process dies.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <mutex>

#include "common/log.h"
#include "jobs/job.h"
#include "task_process.pb.h"
#include "worker/map_task.h"
#include "worker/reduce_task.h"
#include "worker/task_process.h"
#include "worker/task_progress.h"
#include "worker/task_report.h"
#include "worker/task_wire.h"

namespace mr {
namespace {

// Spills go to the worker: each finished SST file is ingested by it, each small spill written by
// it; one request at a time, answered before the next.
class WorkerSpillStore : public SpillStore {
 public:
  explicit WorkerSpillStore(std::string spill_dir) : dir_(std::move(spill_dir)) {}

  std::string NewSpillPath() override {
    return fmt::format("{}/t{}-{}.sst", dir_, ::getpid(), next_.fetch_add(1));
  }
  Status IngestSpill(const std::string& path) override {
    proto::TaskProcessRequest req;
    req.set_ingest_spill(path);
    return Ask(req);
  }
  Status WriteSpillBatch(const std::vector<std::pair<std::string, std::string>>& entries) override {
    proto::TaskProcessRequest req;
    auto* b = req.mutable_write_batch();
    for (const auto& [k, v] : entries) {
      b->add_keys(k);
      b->add_values(v);
    }
    return Ask(req);
  }
  Status MarkMapOutputComplete(MapOutputId) override {
    proto::TaskProcessRequest req;
    req.mutable_map_output_complete();
    return Ask(req);
  }

 private:
  Status Ask(const proto::TaskProcessRequest& req) {
    std::lock_guard<std::mutex> l(mu_);
    MR_RETURN_IF_ERROR(WriteTaskMessage(kTaskControlFd, req));
    proto::TaskProcessAck ack;
    MR_RETURN_IF_ERROR(ReadTaskMessage(kTaskControlFd, &ack));
    return ack.ok() ? Status::OK() : Status::IoError(ack.error());
  }

  std::string dir_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
};

// The merged input the worker streams, as chunks of records.
Result<bool> ReadInput(std::string* chunk) {
  chunk->resize(1u << 20);
  while (true) {
    ssize_t n = ::read(kTaskInputFd, chunk->data(), chunk->size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading the reduce input from the worker");
    chunk->resize(static_cast<size_t>(n));
    return n > 0;
  }
}

// Limits the process's data memory. Sanitizer builds reserve terabytes of shadow memory, which
// such a limit forbids: there it is left off.
void LimitMemory(uint64_t bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)bytes;
#else
  if (bytes == 0) return;
  rlimit lim{bytes, bytes};
  if (::setrlimit(RLIMIT_DATA, &lim) != 0) spdlog::warn("cannot limit the task's memory: {}", std::strerror(errno));
#endif
}

Status Run(const proto::TaskProcessStart& start, TaskProgress* progress, AttemptLog* log, CounterSet* counters,
           proto::SkippedRecord* bad_record) {
  const proto::AssignTask& t = start.task();
  TaskIdentity who{t.job_id(), t.kind() == proto::TASK_MAP, t.index(), t.attempt(), t.reducers(), {}};
  for (const proto::InputSplit& p : t.split().parts()) who.inputs.push_back({p.path(), p.offset(), p.length()});
  if (t.split().parts_size() == 0 && t.kind() == proto::TASK_MAP) {
    who.inputs.push_back({t.split().path(), t.split().offset(), t.split().length()});
  }
  JobDefinition def{t.job_name(), JobArgs(t.args().begin(), t.args().end()), t.job_lib(), t.mapper(),
                    t.reducer(), t.combiner(), log};
  def.task = &who;
  def.progress = [progress] { progress->reported.fetch_add(1, std::memory_order_relaxed); };
  auto job = MakeJob(def);
  if (!job.ok()) return job.status();
  if (t.kind() == proto::TASK_MAP) {
    WorkerSpillStore store(start.spill_dir());
    MapOptions mo{static_cast<int>(start.threads()), start.buffer_bytes(), nullptr, progress};
    mo.bad_record = bad_record;
    auto r = RunMapTask(t, **job, &store, mo);
    if (!r.ok()) return r.status();
    *counters = std::move(*r);
    return Status::OK();
  }
  RunMerger merged;
  MR_RETURN_IF_ERROR(merged.AddSource("the worker", ReadInput));
  auto r = ReduceMerged(t, **job, merged, start.output_file(), nullptr, TaskProgress::Enter(progress, 0));
  if (!r.ok()) return r.status();
  *counters = std::move(*r);
  return Status::OK();
}

}  // namespace

int RunTaskProcessMain() {
  // Its worker's descriptors are its own only: a streaming command it starts inherits none.
  for (int fd : {kTaskControlFd, kTaskInputFd, kTaskProgressFd}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  // The worker gone, the attempt is over. (Had it died before this line, the read below ends.)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  proto::TaskProcessStart start;
  if (Status s = ReadTaskMessage(kTaskControlFd, &start); !s.ok()) {
    std::fprintf(stderr, "mr task-process: is run by a worker, not by hand (%s)\n", s.message().c_str());
    return 2;
  }
  void* page = ::mmap(nullptr, sizeof(TaskProgress), PROT_READ | PROT_WRITE, MAP_SHARED, kTaskProgressFd, 0);
  if (page == MAP_FAILED) return 2;
  auto* progress = static_cast<TaskProgress*>(page);
  NoteCrashesIn(progress);
  const proto::AssignTask& t = start.task();
  SetLogName("task " + AttemptName(t));
  LimitMemory(start.memory_limit());
  // The job's commands run among its files (--files). The paths it was given stay valid.
  if (!start.work_dir().empty()) {
    start.set_spill_dir(std::filesystem::absolute(start.spill_dir()).string());
    if (!start.output_file().empty()) start.set_output_file(std::filesystem::absolute(start.output_file()).string());
    if (::chdir(start.work_dir().c_str()) != 0) {
      std::fprintf(stderr, "mr task-process: cannot enter %s: %s\n", start.work_dir().c_str(), std::strerror(errno));
      return 2;
    }
  }

  AttemptLog log;
  CounterSet counters;
  proto::SkippedRecord bad_record;
  Status status = CatchJobExceptions([&] { return Run(start, progress, &log, &counters, &bad_record); });
  const bool out_of_memory = status.message() == kJobOutOfMemory;
  // Whatever the job's code counted, the result fits in a message: cut as the worker's report is.
  proto::TaskReport report;
  report.set_error(status.message());
  for (const auto& [k, v] : counters.values()) (*report.mutable_counters())[k] = v;
  report.set_log(log.log());
  report.set_user_stderr(log.user_stderr());
  if (std::string cut = BoundTaskReport(&report); !cut.empty()) {
    spdlog::warn("{}", cut);
    report.mutable_log()->append(fmt::format("{}: {}\n", AttemptName(t), cut));
  }
  proto::TaskProcessRequest req;
  auto* r = req.mutable_result();
  r->set_ok(status.ok());
  r->set_error(report.error());
  r->set_resource_exhausted(!out_of_memory && status.code() == Status::Code::kResourceExhausted);
  r->set_out_of_memory(out_of_memory && start.memory_limit() > 0);
  *r->mutable_counters() = report.counters();
  r->set_log(report.log());
  r->set_user_stderr(report.user_stderr());
  r->set_stderr_truncated(log.stderr_truncated());
  if (!status.ok() && bad_record.ByteSizeLong() > 0) *r->mutable_bad_record() = bad_record;
  Status sent = WriteTaskMessage(kTaskControlFd, req);
  spdlog::default_logger()->flush();
  // No static destructors: the job's library may hold threads or state that should not run down.
  std::_Exit(sent.ok() ? 0 : 3);
}

}  // namespace mr
