// Scheduler: the master's job, task and worker tables and every decision about them (DESIGN §3, §5):
//  - plugin and streaming jobs run only on workers that allow user code;
//  - jobs share the slots fairly (master/fair_share.h): a free slot goes to the neediest pool, and
//    in it to the highest-priority job holding the fewest, ties to the earliest submitted; a job
//    never holds more than its max_slots; a pool starts at most its max_running_jobs jobs; a job's
//    map tasks first, its reduce tasks once every map is done (so reduces never hold slots that
//    their own maps, or any other job's reducers, wait for: there is no reduce-side deadlock);
//  - a failed attempt is retried, up to kMaxAttempts, on another worker when there is one; a worker
//    that failed kBlacklistFailures attempts of a job gets no more of that job's tasks;
//  - a dead worker's running attempts go back to idle. When its connection closed (the process
//    most likely died), its finished maps of unfinished jobs run again at once. When it went silent
//    they are "orphaned": reducers may still fetch them (only the control link may be cut), no new
//    reduce starts meanwhile, and they run again when a reducer cannot fetch them or when the worker
//    has not come back within the recovery grace (counted only while some worker is alive, so a
//    master that was cut off from everyone does not re-run maps whose workers are about to return);
//  - workers have a stable identity: one that re-registers (after a partition, or restarted on the
//    same data dir) reports the map outputs it holds, and those still needed are re-adopted instead
//    of re-run; a report of an attempt lost with it is accepted when the task is still not done;
//  - fetch failures are evidence about nodes: a map runs again when its worker is gone, when a
//    reducer got its output failing its checksum, or after kFetchFailuresToRerun reports; a node that reducers on kExcludeEvidence distinct workers
//    cannot fetch from, or whose reducers cannot fetch from kExcludeEvidence distinct live nodes,
//    is excluded for the job (its maps run elsewhere, it gets none of the job's tasks);
//  - every failure is charged and bounded, so a job that cannot progress fails with the reason:
//    kMaxAttempts failed attempts; beyond kMaxFetchFailedReduces attempts of a reduce that failed
//    to fetch from a live worker, each counts as a failure; a map whose output cannot be fetched after it ran
//    kMaxFetchReruns times, or a task lost kMaxLostAttempts times in a row with a worker it ran on
//    alone, fails the job;
//    so does a job that every live worker is excluded from;
//  - near the end of a phase (no idle task left), a task running longer than
//    max(kMinBackupMs, 3 x the phase's median task time) gets one backup attempt elsewhere; the
//    first attempt to finish wins and the others are forgotten;
//  - exactly one attempt of each reduce task (of each map task, in a map-only job: --reducers 0)
//    is committed, and _SUCCESS written after the last one: the scheduler asks for each commit in Effects.commits, the master carries it out with the
//    OutputCommitter (master/output_committer.h) and reports the result with OnCommitted; a reduce
//    is done only once its commit succeeded (a failed commit fails the attempt), and the job only
//    once _SUCCESS is written. At a job's end, Effects.cleanups asks for its _temporary to go (and
//    for its whole output, when it did not succeed). A job that starts asks for its output to be
//    prepared (Effects.setups, answered with OnOutputSetUp) and runs no task before; a job resumed
//    after a restart is given what the master found of its output (ResumedOutput). The scheduler
//    itself does no I/O;
//  - every task's progress is returned for journaling, so a restarted master resumes jobs without
//    redoing committed reduces or reusing attempt numbers.
//
// For observability (DESIGN §7) it also keeps, without letting them influence any decision: a
// bounded history of each task's attempts (worker, start, end, outcome, error, records and bytes
// in and out), the last failed attempts of each job (in JobStatus.failed_attempts), the task
// tables of finished jobs (returned for journaling in Effects.histories, put back with
// RestoreHistory after a restart), the workers recently lost, and process-wide totals. Read them
// with Tasks(), LostWorkers() and totals(). Finished jobs are retained by count and age
// (SchedulerOptions.history_jobs, history_age_ms): Tick forgets the oldest beyond either, whole
// (status and tasks), and returns them in Effects.forgotten_jobs.
//
// The implementation is in four files: scheduler.cc (jobs, tasks and the scheduling pass),
// scheduler_workers.cc (workers joining, coming back and leaving), scheduler_reports.cc (what an
// attempt's report does, fetch-failure evidence and exclusion) and scheduler_history.cc (the
// attempt history and read-only views). The state they decide on lives in three tables, each with
// its own tests (master/scheduler_state_test.cc): a job's tasks and their counts and indexes
// (master/task_table.h), the workers, their slots, liveness and what runs and is stored on each
// (master/worker_table.h), and the evidence against nodes (master/worker_evidence.h). The tables
// keep their indexes consistent; the decisions stay in the Scheduler.
//
// A task is kept in a few hundred bytes (master/scheduler_compact.h, docs/scale.md "State"): names
// are pooled, a map's split is a row of its job's split table, rare fields are allocated on use.
//
// Every event costs O(log n) in the number of workers and tasks (docs/scale.md): free slots, idle
// tasks, running attempts by start time, task states, orphaned outputs and job counters are kept in
// indexes and sums updated as they change. Heartbeats only refresh liveness; a scheduling pass runs
// only after an event that may allow an assignment (a slot freed, a task idle again, a job queued),
// and a backup check is a look at the oldest running attempt.
//
// It does no network I/O: calls return their effects (assignments to send, jobs whose end to
// announce, jobs to journal) in an Effects value. Time is passed in (now_ms), so tests drive it.
// Thread-safety: not thread-safe; the master calls it from its io thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "master/admission.h"
#include "master/fair_share.h"
#include "master/output_committer.h"
#include "master/scheduler_compact.h"
#include "master/scheduler_index.h"
#include "master/task_table.h"
#include "master/worker_evidence.h"
#include "master/worker_table.h"
#include "mr.pb.h"

namespace mr {

constexpr uint32_t kMaxAttempts = 4;
constexpr uint32_t kFetchFailuresToRerun = 2;
constexpr uint32_t kMaxFetchFailedReduces = 8;
constexpr uint32_t kMaxFetchReruns = 4;
constexpr uint32_t kMaxLostAttempts = 12;
// A failed attempt runs again at once on another worker with a free slot, as Hadoop retries on
// another node first. With none free, one that failed because its worker ran out of a resource
// (TaskReport.resource_exhausted: descriptors, memory, disk) waits a backoff of 1 s, doubling per
// failure of the task up to 8 s (then on another worker if one is free). Every failure is charged.
constexpr int64_t kResourceRetryMs = 1000;
constexpr int64_t kMaxResourceRetryMs = 8000;
constexpr int64_t kMinBackupMs = 1000;
constexpr size_t kAttemptHistory = 16;          // attempts remembered per task (the newest)
constexpr size_t kFailedAttemptsKept = 16;      // per job, in JobStatus.failed_attempts
constexpr size_t kFailedAttemptErrorBytes = 2048;

// A task as every view sees it is a proto::TaskHistory (mr.proto): the HTTP API, `mr logs` and the
// journal render that one shape, made from the scheduler's compact Task by TaskView. Its attempts
// are proto::AttemptRecord, oldest first, at most kAttemptHistory; OutcomeOf reads their outcome.

// Totals since this master started (monotonic: Prometheus counters).
struct SchedulerTotals {
  uint64_t jobs_submitted = 0;
  uint64_t jobs_finished = 0;
  uint64_t attempts_launched = 0;
  uint64_t attempts_backup = 0;
  uint64_t attempts_succeeded = 0;
  uint64_t attempts_failed = 0;
  uint64_t attempts_lost = 0;
  uint64_t attempts_preempted = 0;
  std::map<std::string, uint64_t> pool_preemptions;  // attempts preempted to give slots to a pool
  uint64_t maps_rerun = 0;            // finished maps whose output was lost and ran again
  uint64_t workers_registered = 0;
  uint64_t workers_lost = 0;
  std::map<std::string, int64_t> counters;  // summed over successful attempts
};

struct SchedulerOptions {
  // How long a lost worker's finished map outputs wait for it to come back before they run again
  // (counted while at least one worker is alive).
  int64_t recovery_grace_ms = 10000;
  // Finished jobs kept (status, tasks and attempts): at most history_jobs of them, none that ended
  // more than history_age_ms ago (0: no age limit). The oldest go first.
  size_t history_jobs = 200;
  int64_t history_age_ms = 7 * 24 * 3600 * 1000LL;
  // A pool kept below its min_share, or below half its fair share, this long takes slots back by
  // preemption (master/scheduler_preempt.cc); 0: never.
  int64_t preempt_after_ms = 30000;
};

struct Effects {
  std::vector<std::pair<std::string, proto::AssignTask>> assignments;  // (worker id, task)
  // Attempts the scheduler stopped counting while their worker still runs them (superseded by
  // another attempt's success, or preempted): (worker id, attempt), for the master to cancel there.
  std::vector<std::pair<std::string, AttemptRef>> cancels;
  std::vector<uint64_t> ended_jobs;
  std::vector<uint64_t> changed_jobs;
  std::vector<proto::TaskRecord> changed_tasks;
  // Finished jobs' tasks and attempts to journal: (job id, serialized proto JobHistory), built a task
  // at a time, so a job of 200,000 tasks is never all in memory as protos at once.
  std::vector<std::pair<uint64_t, std::string>> histories;
  std::vector<uint64_t> forgotten_jobs;       // finished jobs past the retention: drop from the journal
  // The output work, carried out by the master with the OutputCommitter (master/carry_out.h):
  // outputs of jobs that start, to prepare, each reported back with Scheduler::OnOutputSetUp;
  // commits, in order, each reported back with Scheduler::OnCommitted; and the outputs of jobs
  // that ended, to clean up (OutputCommitter::Clean).
  std::vector<SetupRequest> setups;
  std::vector<CommitRequest> commits;
  std::vector<CleanupRequest> cleanups;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {}) : options_(options) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues an admitted job (master/admission.h); AlreadyExists when an unfinished job writes the
  // same output.
  Result<uint64_t> Submit(uint64_t id, AdmittedJob job, int64_t now_ms, Effects* fx);
  // Puts a journaled job back after a master restart: finished and queued jobs as they were,
  // running ones resumed from their journaled tasks and split plan (a job without its plan fails)
  // and what the master found of their output (`output`, OutputCommitter::Resume: a job whose
  // output cannot be resumed fails; a reduce is done only if its file is in place).
  void Restore(const proto::JobStatus& status, const std::vector<proto::TaskRecord>& tasks,
               Result<proto::JobPlan> plan, const ResumedOutput& output, int64_t now_ms, Effects* fx);
  Status Kill(uint64_t job_id, int64_t now_ms, Effects* fx);
  // A pipeline step's successor (master/master.cc submits it when the step succeeds): its job, or
  // (next_id 0) why it could not be submitted. Journaled with the job; set once.
  Status SetNextStep(uint64_t job_id, uint64_t next_id, const std::string& error, Effects* fx);
  // The result of a commit it asked for (Effects.commits): a reduce succeeds, or its attempt fails;
  // the job succeeds, or fails with the reason. Ignored for a job that ended meanwhile.
  void OnCommitted(const CommitRequest& commit, const Status& result, int64_t now_ms, Effects* fx);
  // The result of preparing a starting job's output (Effects.setups): its tasks may run, or the
  // job fails with the reason. Ignored for a job that ended meanwhile.
  void OnOutputSetUp(const SetupRequest& setup, const Status& result, int64_t now_ms, Effects* fx);
  // Fails an unfinished job with `error` (a restarted master that may no longer run it).
  Status Fail(uint64_t job_id, const std::string& error, int64_t now_ms, Effects* fx);
  // Puts back a finished job's journaled tasks and attempts (after Restore of its status), so
  // Tasks() shows them as they were. Ignored for an unknown or unfinished job.
  void RestoreHistory(const proto::JobHistory& history);

  // The identity a registration is known by (an anonymous one gets a name of its own), and the
  // name it goes by (WorkerTable::NameFor): AlreadyExists when a live worker of another identity
  // has the name it asks for.
  std::string IdentityOf(const std::string& identity) { return workers_.IdentityOf(identity); }
  Result<std::string> NameWorker(const std::string& identity, const std::string& requested,
                                 const std::string& shuffle_address, const std::string& known = "");
  // A worker registered, or re-registered, as reg.id (NameWorker's). Returns the jobs of its held
  // outputs that are over (the worker drops their data).
  std::vector<uint64_t> AddWorker(const WorkerRegistration& reg, int64_t now_ms, Effects* fx,
                                  const std::string& identity = "");
  // Shorthand for tests: a new worker with no held output.
  void AddWorker(const std::string& id, const std::string& address, uint32_t slots, int64_t now_ms);
  void Heartbeat(const std::string& id, int64_t now_ms);
  // How the master lost a worker. A worker that went silent may be cut off and still hold its map
  // outputs (they are orphaned for the recovery grace); one whose connection closed is most likely
  // dead (its outputs run again at once, though a restart on the same data dir still re-adopts
  // them if it comes back before they are done).
  enum class Loss { kSilent, kDisconnected };
  // The worker is gone: its attempts are lost; its finished maps are orphaned or run again.
  void RemoveWorker(const std::string& id, const std::string& reason, int64_t now_ms, Effects* fx,
                    Loss loss = Loss::kSilent);
  // Workers whose last heartbeat is older than timeout_ms, oldest first (O(log W + found): the
  // liveness index).
  std::vector<std::string> SilentWorkers(int64_t now_ms, int64_t timeout_ms) const;

  void OnReport(const std::string& worker_id, const proto::TaskReport& report, int64_t now_ms, Effects* fx);
  // Every attempt running on the worker failed with `error` (charged like a reported failure): the
  // worker sent something the master cannot read, most likely one of their reports.
  void FailAttemptsOn(const std::string& worker_id, const std::string& error, int64_t now_ms, Effects* fx);
  // Starts queued jobs and hands idle tasks to free slots (a no-op for assignments when nothing
  // changed since the last pass), and starts backups for stragglers.
  void Schedule(int64_t now_ms, Effects* fx);
  // Decisions that depend on time passing: orphaned map outputs past their recovery grace run
  // again, backups for stragglers. The master calls it periodically.
  void Tick(int64_t now_ms, Effects* fx);

  // The pools file's settings (master/pools.h), at start and on every reload.
  void SetPools(PoolsConfig pools);
  // Every pool with an unfinished job: its settings, running slots and fair share.
  std::vector<FairShare::PoolView> Pools() const;

  Result<proto::JobStatus> JobStatus(uint64_t id) const;
  bool HasJob(uint64_t id) const { return jobs_.contains(id); }  // known (not forgotten), O(log jobs)
  std::vector<proto::JobStatus> AllJobs() const;
  // A page of the live workers in id order: at most `limit` from the `offset`-th on; with all, then
  // every recently lost one (lost = true), newest first.
  std::vector<proto::WorkerInfo> Workers(int64_t now_ms, size_t offset = 0, size_t limit = SIZE_MAX,
                                         bool all = false) const;
  size_t WorkerCount() const { return workers_.size(); }
  // Slots over every live worker, and those running an attempt (kept as they change).
  uint64_t TotalSlots() const { return workers_.total_slots(); }
  uint64_t BusySlots() const { return workers_.busy_slots(); }
  // The oldest last heartbeat of a live worker (0 when none), O(1).
  int64_t OldestHeartbeatMs() const;

  // Observability (read-only; none of it influences scheduling).
  // The job's tasks, maps first: live for a running job, as they were at the end for a finished
  // one (empty when queued, or when its history was not journaled). NotFound for an unknown job
  // (or one forgotten by the retention).
  Result<std::vector<proto::TaskHistory>> Tasks(uint64_t job_id, int64_t now_ms) const;
  // Tasks by kind and state ("idle", "running", "done"; every pair, zeros too), over the unfinished
  // jobs, or over one job (nothing for a job that is not running).
  struct TaskCount {
    proto::TaskKind kind;
    std::string state;
    uint64_t count;
  };
  std::vector<TaskCount> TaskCounts(std::optional<uint64_t> job_id = std::nullopt) const;
  // Registration time of a live worker (0 if unknown).
  int64_t WorkerRegisteredMs(const std::string& id) const;
  const std::deque<LostWorker>& LostWorkers() const { return workers_.lost(); }
  const SchedulerTotals& totals() const { return totals_; }

 private:
  using Worker = WorkerTable::Worker;
  // A reduce attempt's report, held while its commit is carried out.
  struct PendingCommit {
    std::string worker;
    proto::TaskReport report;
    int64_t started_ms = 0;
  };
  struct Job {
    explicit Job(const NamePool* names) : tasks(names) {}
    proto::JobStatus status;                    // spec, state, times, error
    TaskTable tasks;                            // its tasks and their indexes (once started)
    WorkerEvidence evidence;                    // failures, fetch failures, exclusions
    int64_t attempts_launched = 0, attempts_failed = 0, attempts_backup = 0, attempts_preempted = 0;
    std::vector<proto::TaskHistory> final_tasks;          // observability: a finished job's tasks, as journaled
                                                // (after a restart; else its tasks stay)
    SplitTable splits;                          // its maps' splits (the plan, in the journal)
    bool user_code = false;                     // a plugin or streaming job: on allow_user_code workers only
    // Attempts of the tasks that write the job's parts (its reduces, or a map-only job's maps) that
    // reported success and wait for their commit (by task index), and whether the job's own commit
    // (_SUCCESS) was asked for.
    std::map<uint32_t, PendingCommit> committing;
    bool committing_job = false;
    bool output_ready = false;                  // set up (or resumed): its tasks may run
    // Maps' bad records that their later attempts skip (--skip-bad-records), by map index.
    std::map<uint32_t, std::vector<proto::SkippedRecord>> skipped;

    // A map-only job (--reducers 0): its maps write its parts and are committed as reduces are.
    bool map_only() const { return status.spec().map_only(); }
    // Whether `t` writes one of the job's parts (and is done only once committed).
    bool Writes(const Task& t) const { return (t.kind == proto::TASK_MAP) == map_only(); }
    PartKind part_kind() const { return map_only() ? PartKind::kMap : PartKind::kReduce; }
    // The tasks that write the job's parts.
    std::vector<Task>& writers() { return map_only() ? tasks.maps() : tasks.reduces(); }
  };

  // Upkeep that spans the tables: a task's state (and the pass it may allow), an attempt that
  // starts or stops running on a worker (the task, the worker's slot and its running index), a map
  // output that lands on or leaves a worker (the task and the worker's output index).
  void SetState(Job& job, Task& t, TaskState state);
  void StartRunning(Job& job, Task& t, uint32_t attempt, const std::string& worker, int64_t now_ms);
  void StopRunning(Job& job, Task& t, uint32_t attempt);
  void SetOutput(Job& job, Task& map, const std::string& worker, const std::string& address, uint32_t attempt);
  void ClearOutput(Job& job, Task& map);
  void SetOrphaned(Job& job, Task& t, int64_t since_ms);
  void StartJob(Job& job, int64_t now_ms, Effects* fx);
  // The slots a job could use now: its current phase's tasks not done, at most its max_slots, none
  // while its pool's limit holds it queued (for FairShare::Shares); Demands: of every active job.
  uint64_t Demand(const Job& job) const;
  std::map<uint64_t, uint64_t> Demands() const;
  Worker* FreeWorker(const Job& job, const std::string& not_this = "");
  void Launch(Job& job, Task& task, Worker& w, int64_t now_ms, Effects* fx);
  void LaunchBackups(Job& job, int64_t now_ms, Effects* fx);
  // Preemption: gives pools kept below their due share slots back from the pools furthest above
  // theirs (master/scheduler_preempt.cc).
  void Preempt(int64_t now_ms, Effects* fx);
  void PreemptAttempt(Job& job, Task& t, uint32_t attempt, const std::string& pool, int64_t now_ms, Effects* fx);
  void RevertMap(Job& job, Task& task, const std::string& why, Effects* fx);
  void AdoptHeldOutputs(const Worker& w, const std::vector<proto::HeldMapOutput>& held, int64_t now_ms,
                        Effects* fx, std::vector<uint64_t>* drop_jobs);
  // A map attempt that died on a bad record, in a job that skips them: the record is added to the
  // map's skip list, uncharged (true); or, past the job's allowance, the job fails (true). False:
  // not a skip, the failure is charged as usual.
  bool SkipBadRecord(Job& job, Task& task, const proto::TaskReport& r, const Status& failure, int64_t now_ms,
                     Effects* fx);
  void OnFetchFailure(Job& job, Task& reduce, const std::string& reducer, const proto::TaskReport& r,
                      int64_t now_ms, Effects* fx);
  void Exclude(Job& job, const std::string& worker, const std::string& why, int64_t now_ms, Effects* fx);
  // The attempt's worker is gone or excluded: the attempt is lost, and the task idle again.
  void LoseAttempt(Job& job, Task& t, uint32_t attempt, const std::string& why, int64_t now_ms);
  // The idle task's attempt on `worker` failed by its own fault: runs it on another free worker
  // now. With none free, an attempt that ran out of a resource (`exhausted`) is held out of the
  // idle queue until a backoff has passed (ReleaseRetries); any other waits for the next free slot.
  void RetryElsewhere(Job& job, Task& t, const std::string& worker, bool exhausted, int64_t now_ms, Effects* fx);
  void ReleaseRetries(int64_t now_ms, Effects* fx);
  // Fails the job when one of its tasks ran out of chances; true if it did.
  bool ChargeTask(Job& job, Task& t, int64_t now_ms, Effects* fx);
  bool AcceptLateReport(Job& job, Task& task, const std::string& worker_id, const proto::TaskReport& r);
  // The job's task of an attempt the worker table names; nullptr when it is gone.
  std::pair<Job*, Task*> Resolve(const AttemptRef& a);
  void MaybeSucceed(Job& job, int64_t now_ms, Effects* fx);
  proto::TaskRecord Record(const Job& job, const Task& task) const;
  void FinishJob(Job& job, proto::JobState state, const std::string& error, int64_t now_ms, Effects* fx);
  proto::AssignTask MakeAssignment(const Job& job, const Task& task, uint32_t attempt) const;
  // The end of a reported attempt: success (a reduce's after its commit) or `failure`.
  void Conclude(Job& job, Task& task, const std::string& worker_id, const proto::TaskReport& r,
                int64_t started_ms, Status failure, int64_t now_ms, Effects* fx);
  // A task with no running attempt goes back to idle, unless its commit is under way.
  void IdleIfStopped(Job& job, Task& t);
  proto::JobStatus BuildStatus(const Job& job) const;
  // Observability bookkeeping (never read by scheduling decisions).
  proto::AttemptRecord AttemptView(const Task::Attempt& a) const;
  const std::string& Name(uint32_t id) const { return names_[id]; }
  void SetCounters(CounterList* out, const google::protobuf::Map<std::string, int64_t>& in);
  void EndAttempt(Job& job, Task& task, uint32_t attempt, AttemptOutcome outcome, int64_t now_ms,
                  const std::string& error = "");
  proto::TaskHistory TaskView(const Job& job, const Task& task, int64_t now_ms) const;
  // Records and bytes in and out of a reported attempt, from its counters.
  void RecordAttemptCounters(Task& task, const proto::TaskReport& r);
  // Forgets the finished jobs beyond the retention (count and age).
  void PruneHistory(int64_t now_ms, Effects* fx);

  // The job `id` (made when new).
  Job& JobAt(uint64_t id) { return jobs_.try_emplace(id, &names_).first->second; }

  SchedulerOptions options_;
  NamePool names_;                             // worker ids, addresses and counter names of tasks
  std::map<uint64_t, Job> jobs_;               // ordered by id = submission order
  WorkerTable workers_;                         // live workers, their slots, liveness, attempts and outputs
  FairShare fair_;                              // the active jobs in the order they get slots
  std::map<std::string, int64_t> starved_since_;  // pools below their due share, since when
  std::set<uint64_t> active_jobs_;              // unfinished jobs (queued or running)
  bool dirty_ = true;                           // something changed since the last scheduling pass
  // Tasks held back after a resource failure: (when, job, phase 0/1, index) -> the worker it failed on.
  std::map<std::tuple<int64_t, uint64_t, int, uint32_t>, std::string> held_retries_;
  SchedulerTotals totals_;
};

}  // namespace mr
