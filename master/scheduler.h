// Scheduler: the master's job, task and worker tables and every decision about them (DESIGN §3, §5):
//  - jobs run in submission order (a later job uses slots the earlier ones cannot); a job's map
//    tasks first, its reduce tasks once every map is done;
//  - a failed attempt is retried, up to kMaxAttempts, on another worker when there is one; a worker
//    that failed kBlacklistFailures attempts of a job gets no more of that job's tasks;
//  - a dead worker's running attempts, and its finished maps of unfinished jobs, go back to idle;
//  - a reducer that cannot fetch a map's output reports it; the map runs again when its worker is
//    dead (or unknown since a master restart) or after kFetchFailuresToRerun reports;
//  - near the end of a phase (no idle task left), a task running longer than
//    max(kMinBackupMs, 3 x the phase's median task time) gets one backup attempt elsewhere; the
//    first attempt to finish wins and the others are forgotten;
//  - exactly one attempt of each reduce task is committed, by renaming its file into place, and
//    _SUCCESS is written after the last one;
//  - every task's progress is returned for journaling, so a restarted master resumes jobs without
//    redoing committed reduces or reusing attempt numbers.
//
// It does no network I/O: calls return their effects (assignments to send, jobs whose end to
// announce, jobs to journal) in an Effects value. Time is passed in (now_ms), so tests drive it.
// Thread-safety: not thread-safe; the master calls it from its io thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "master/inputs.h"
#include "mr.pb.h"

namespace mr {

constexpr uint32_t kMaxAttempts = 4;
constexpr uint32_t kBlacklistFailures = 3;
constexpr uint32_t kFetchFailuresToRerun = 2;
constexpr int64_t kMinBackupMs = 1000;
constexpr uint64_t kDefaultSplitSize = 64ull << 20;

struct Effects {
  std::vector<std::pair<std::string, proto::AssignTask>> assignments;  // (worker id, task)
  std::vector<uint64_t> ended_jobs;
  std::vector<uint64_t> changed_jobs;
  std::vector<proto::TaskRecord> changed_tasks;
};

class Scheduler {
 public:
  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Validates the spec (job name and arguments, inputs, output) and queues the job.
  Result<uint64_t> Submit(uint64_t id, proto::JobSpec spec, int64_t now_ms, Effects* fx);
  // Puts a journaled job back after a master restart: finished and queued jobs as they were,
  // running ones resumed from their journaled tasks.
  void Restore(const proto::JobStatus& status, const std::vector<proto::TaskRecord>& tasks,
               int64_t now_ms, Effects* fx);
  Status Kill(uint64_t job_id, int64_t now_ms, Effects* fx);

  void AddWorker(const std::string& id, const std::string& address, uint32_t slots, int64_t now_ms);
  void Heartbeat(const std::string& id, int64_t now_ms);
  // The worker is gone: its attempts are lost, and so is the map output on its disk.
  void RemoveWorker(const std::string& id, const std::string& reason, int64_t now_ms, Effects* fx);
  // Workers whose last heartbeat is older than timeout_ms.
  std::vector<std::string> SilentWorkers(int64_t now_ms, int64_t timeout_ms) const;

  void OnReport(const std::string& worker_id, const proto::TaskReport& report, int64_t now_ms, Effects* fx);
  // Starts queued jobs and hands idle tasks to free slots.
  void Schedule(int64_t now_ms, Effects* fx);

  Result<proto::JobStatus> JobStatus(uint64_t id) const;
  std::vector<proto::JobStatus> AllJobs() const;
  std::vector<proto::WorkerInfo> Workers(int64_t now_ms) const;

 private:
  enum class TaskState { kIdle, kRunning, kDone };
  struct Running {
    std::string worker;
    int64_t start_ms = 0;
  };
  struct Task {
    proto::TaskKind kind = proto::TASK_MAP;
    uint32_t index = 0;
    TaskState state = TaskState::kIdle;
    uint32_t attempts = 0;                      // attempts started
    uint32_t failures = 0;
    uint32_t backups = 0;
    uint32_t fetch_failures = 0;                // reports since the output was last made
    int64_t duration_ms = 0;                    // of the attempt that succeeded
    std::map<uint32_t, Running> running;        // attempt -> where and since when
    proto::InputSplit split;                    // map tasks
    std::string done_worker;                    // the worker holding a done map's output ("" =
                                                // unknown, since a master restart)
    std::string done_address;
    uint32_t done_attempt = 0;
    std::map<std::string, int64_t> counters;    // of the attempt that succeeded
    std::string last_error;
  };
  struct Job {
    proto::JobStatus status;                    // spec, state, times, error
    std::vector<Task> maps;
    std::vector<Task> reduces;
    uint32_t maps_done = 0;
    uint32_t reduces_done = 0;
    std::map<std::string, uint32_t> worker_failures;  // failed attempts of this job per worker
  };
  struct Worker {
    std::string id;
    std::string address;
    uint32_t slots = 0;
    uint32_t running = 0;
    int64_t last_heartbeat_ms = 0;
    uint64_t succeeded = 0;
    uint64_t failed = 0;
  };

  Status StartJob(Job& job, int64_t now_ms);
  Status BuildTasks(Job& job);
  Worker* FreeWorker(const Job& job, const std::string& not_this = "");
  void Launch(Job& job, Task& task, Worker& w, int64_t now_ms, Effects* fx);
  void LaunchBackups(Job& job, int64_t now_ms, Effects* fx);
  void RevertMap(Job& job, Task& task, const std::string& why, Effects* fx);
  void MaybeSucceed(Job& job, int64_t now_ms, Effects* fx);
  proto::TaskRecord Record(const Job& job, const Task& task) const;
  void FinishJob(Job& job, proto::JobState state, const std::string& error, int64_t now_ms, Effects* fx);
  Task* FindTask(Job& job, proto::TaskKind kind, uint32_t index);
  Task* NextIdleTask(Job& job);
  proto::AssignTask MakeAssignment(const Job& job, const Task& task, uint32_t attempt) const;
  void AttemptEnded(Task& task, uint32_t attempt);
  Status CommitReduce(Job& job, Task& task, const std::string& file);
  proto::JobStatus BuildStatus(const Job& job) const;

  std::map<uint64_t, Job> jobs_;               // ordered by id = submission order
  std::map<std::string, Worker> workers_;
};

}  // namespace mr
