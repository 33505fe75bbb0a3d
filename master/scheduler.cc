#include "master/scheduler.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/defaults.h"
#include "common/failpoint.h"
#include "common/job_state.h"
#include "common/log.h"
#include "master/scheduler_internal.h"
#include "jobs/job.h"

namespace mr {

using scheduler_internal::Finished;

Result<uint64_t> Scheduler::Submit(uint64_t id, AdmittedJob admitted, int64_t now_ms, Effects* fx) {
  const std::string& output = admitted.spec.output();
  for (uint64_t other_id : active_jobs_) {
    const Job& other = jobs_.at(other_id);
    if (other.status.spec().output() == output) {
      return Status::AlreadyExists(fmt::format("output {} is the output of job {}, still unfinished", output,
                                               other_id));
    }
  }
  Job& j = JobAt(id);
  active_jobs_.insert(id);
  dirty_ = true;
  j.status.set_job_id(id);
  *j.status.mutable_spec() = std::move(admitted.spec);
  fair_.Add(id, PoolOf(j.status.spec()), PriorityRank(j.status.spec().priority()));
  j.status.set_state(proto::JOB_QUEUED);
  j.status.set_submit_time_ms(now_ms);
  j.status.set_input_bytes(admitted.input_bytes);
  j.status.set_previous_job_id(admitted.previous_job);
  j.splits = SplitTable(&admitted.plan);
  j.user_code = !j.status.spec().job_lib().empty() || !j.status.spec().mapper().empty();
  spdlog::info("job {} submitted: {} over {} files ({} bytes, {} splits), {} reducers, output {}", id,
               j.status.spec().job(), admitted.input_files, j.status.input_bytes(), j.splits.size(),
               j.status.spec().reducers(), j.status.spec().output());
  totals_.jobs_submitted++;
  fx->changed_jobs.push_back(id);
  return id;
}

Status Scheduler::SetNextStep(uint64_t job_id, uint64_t next_id, const std::string& error, Effects* fx) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  proto::JobStatus& s = it->second.status;
  if (s.next_job_id() != 0 || !s.next_error().empty()) {
    return Status::AlreadyExists(fmt::format("job {} already has its next step", job_id));
  }
  s.set_next_job_id(next_id);
  s.set_next_error(error);
  fx->changed_jobs.push_back(job_id);
  return Status::OK();
}

void Scheduler::SetState(Job& job, Task& t, TaskState state) {
  if (t.state == state) return;
  job.tasks.SetState(t, state);
  dirty_ = true;
}

void Scheduler::StartRunning(Job& job, Task& t, uint32_t attempt, const std::string& worker, int64_t now_ms) {
  t.running[attempt] = {worker, now_ms};
  job.tasks.Reindex(t);
  fair_.Started(job.status.job_id());
  if (Worker* w = workers_.Find(worker)) workers_.SetRunning(*w, w->running + 1);
  workers_.AttemptStarted(worker, {job.status.job_id(), t.kind, t.index, attempt});
}

void Scheduler::StopRunning(Job& job, Task& t, uint32_t attempt) {
  auto it = t.running.find(attempt);
  if (it == t.running.end()) return;
  if (workers_.ReleaseSlot(it->second.worker)) dirty_ = true;
  workers_.AttemptStopped(it->second.worker, {job.status.job_id(), t.kind, t.index, attempt});
  t.running.erase(it);
  job.tasks.Reindex(t);
  fair_.Stopped(job.status.job_id());
}

void Scheduler::SetOutput(Job& job, Task& map, const std::string& worker, const std::string& address,
                          uint32_t attempt) {
  ClearOutput(job, map);
  map.done_worker = names_.Intern(worker);
  map.done_address = names_.Intern(address);
  map.done_attempt = attempt;
  workers_.OutputHeld(worker, {job.status.job_id(), map.index});
}

void Scheduler::ClearOutput(Job& job, Task& map) {
  if (map.done_worker != 0) workers_.OutputDropped(Name(map.done_worker), {job.status.job_id(), map.index});
  map.done_worker = 0;
  map.done_address = 0;
}

void Scheduler::SetOrphaned(Job& job, Task& t, int64_t since_ms) {
  job.tasks.SetOrphaned(t, since_ms);
  dirty_ = true;
}

void Scheduler::Restore(const proto::JobStatus& status, const std::vector<proto::TaskRecord>& tasks,
                        Result<proto::JobPlan> plan, const ResumedOutput& output, int64_t now_ms, Effects* fx) {
  Job& j = JobAt(status.job_id());
  j.status = status;
  j.user_code = !status.spec().job_lib().empty() || !status.spec().mapper().empty();
  if (Finished(status)) return;
  j.output_ready = status.state() == proto::JOB_RUNNING;
  active_jobs_.insert(status.job_id());
  fair_.Add(status.job_id(), PoolOf(status.spec()), PriorityRank(status.spec().priority()),
            status.state() == proto::JOB_RUNNING);
  dirty_ = true;
  Status s = plan.status();
  if (s.ok()) j.splits = SplitTable(&*plan);
  if (s.ok() && status.state() == proto::JOB_RUNNING) s = output.status;
  if (!s.ok()) {
    FinishJob(j, proto::JOB_FAILED, "cannot resume after a master restart: " + s.message(), now_ms, fx);
    return;
  }
  if (status.state() != proto::JOB_RUNNING) return;
  j.tasks.Build(static_cast<uint32_t>(j.splits.size()), status.spec().reducers());
  int resumed = 0;
  for (const proto::TaskRecord& r : tasks) {
    Task* t = j.tasks.Find(r.kind(), r.index());
    if (t == nullptr) continue;
    t->attempts = r.attempts();
    t->failures = r.failures();
    if (r.kind() == proto::TASK_MAP && r.skipped_size() > 0) {
      j.skipped[r.index()].assign(r.skipped().begin(), r.skipped().end());
    }
    j.attempts_launched += r.attempts();
    j.attempts_failed += r.failures();
    if (!r.done()) continue;
    // A map's output is still on its worker if that worker is alive; who it is will be learned
    // from the first failed fetch. A reduce (a map-only job's map) is done only if its commit
    // reached the output.
    if (j.Writes(*t) && (t->index >= output.committed.size() || !output.committed[t->index])) continue;
    t->done_address = names_.Intern(r.done_address());
    t->done_attempt = r.done_attempt();
    t->duration_ms = r.duration_ms();
    SetCounters(&t->counters, r.counters());
    SetState(j, *t, TaskState::kDone);
    // A map's worker is unknown until it re-registers with the output (or a fetch fails).
    if (t->kind == proto::TASK_MAP && !j.map_only()) SetOrphaned(j, *t, now_ms);
    resumed++;
  }
  spdlog::info("job {} resumed after a master restart: {} of {} tasks already done", status.job_id(),
               resumed, j.tasks.maps().size() + j.tasks.reduces().size());
  MaybeSucceed(j, now_ms, fx);
}

void Scheduler::StartJob(Job& job, int64_t now_ms, Effects* fx) {
  const proto::JobSpec& spec = job.status.spec();
  job.tasks.Build(static_cast<uint32_t>(job.splits.size()), spec.reducers());
  job.attempts_launched = job.attempts_failed = job.attempts_backup = job.attempts_preempted = 0;
  job.status.set_state(proto::JOB_RUNNING);
  job.status.set_start_time_ms(now_ms);
  job.output_ready = false;
  fair_.JobStarted(job.status.job_id());
  fx->setups.push_back({job.status.job_id(), spec.output(), spec.overwrite()});
  fx->changed_jobs.push_back(job.status.job_id());
  spdlog::info("job {} started: {} map tasks, {} reduce tasks", job.status.job_id(), job.tasks.maps().size(),
               job.tasks.reduces().size());
}

void Scheduler::OnOutputSetUp(const SetupRequest& setup, const Status& result, int64_t now_ms, Effects* fx) {
  auto it = jobs_.find(setup.job_id);
  if (it == jobs_.end() || Finished(it->second.status) || it->second.output_ready) return;
  Job& job = it->second;
  if (!result.ok()) {
    FinishJob(job, proto::JOB_FAILED, result.message(), now_ms, fx);
  } else {
    job.output_ready = true;
    dirty_ = true;
    MaybeSucceed(job, now_ms, fx);  // a map-only job of no maps (its input is empty) is done
  }
  Schedule(now_ms, fx);
}

void Scheduler::FinishJob(Job& job, proto::JobState state, const std::string& error, int64_t now_ms,
                          Effects* fx) {
  proto::JobStatus summed = BuildStatus(job);  // its counters and counts, kept in the status from now on
  job.status.set_state(state);
  job.status.set_error(error);
  job.status.set_end_time_ms(now_ms);
  active_jobs_.erase(job.status.job_id());
  dirty_ = true;  // other jobs may use the slots
  // Output work asked for in this same step is not carried out; commits under way are forgotten.
  std::erase_if(fx->setups, [&](const SetupRequest& r) { return r.job_id == job.status.job_id(); });
  std::erase_if(fx->commits, [&](const CommitRequest& c) { return c.job_id == job.status.job_id(); });
  for (auto& [index, pending] : job.committing) {
    EndAttempt(job, job.writers()[index], pending.report.attempt(), AttemptOutcome::kKilled, now_ms,
               state == proto::JOB_KILLED ? "the job was killed" : "the job ended");
  }
  job.committing.clear();
  job.committing_job = false;
  for (int k = 0; k < 2; k++) {
    for (Task& t : job.tasks.Phase(k)) {
      std::vector<uint32_t> running;
      for (auto& [attempt, run] : t.running) running.push_back(attempt);
      for (uint32_t attempt : running) {
        EndAttempt(job, t, attempt, AttemptOutcome::kKilled, now_ms,
                   state == proto::JOB_KILLED ? "the job was killed" : "the job ended");
        StopRunning(job, t, attempt);
      }
      if (t.kind == proto::TASK_MAP && t.done_worker != 0) {
        workers_.OutputDropped(Name(t.done_worker), {job.status.job_id(), t.index});
      }
    }
  }
  // The tasks as they ended, journaled; kept (compact) for Tasks() until the retention forgets the job.
  // Serialized messages concatenated parse as one whose repeated fields are concatenated: the
  // JobHistory is written a task at a time.
  proto::JobHistory history;
  history.set_job_id(job.status.job_id());
  std::string bytes = history.SerializeAsString();
  history.clear_job_id();
  for (int k = 0; k < 2; k++) {
    for (Task& t : job.tasks.Phase(k)) {
      history.clear_tasks();
      *history.add_tasks() = TaskView(job, t, now_ms);
      history.AppendToString(&bytes);
      t.counters = CounterList();  // summed into the status
    }
  }
  fx->histories.emplace_back(job.status.job_id(), std::move(bytes));
  totals_.jobs_finished++;
  *job.status.mutable_counters() = summed.counters();
  job.status.set_maps_total(job.tasks.maps().size());
  job.status.set_maps_done(job.tasks.Done(0));
  job.status.set_reduces_total(job.tasks.reduces().size());
  job.status.set_reduces_done(job.tasks.Done(1));
  job.tasks.DropIndexes();
  // Only an output the job prepared is cleaned up: one it never touched (it ended before its
  // setup, or its setup failed) is left as it was.
  if (!job.status.spec().output().empty() && job.output_ready) {
    fx->cleanups.push_back({job.status.spec().output(), state != proto::JOB_SUCCEEDED});
  }
  uint64_t id = job.status.job_id();
  int64_t ran_ms = job.status.start_time_ms() ? now_ms - job.status.start_time_ms() : 0;
  if (state == proto::JOB_SUCCEEDED) {
    spdlog::info("job {} succeeded in {} ms: {} maps, {} reduces", id, ran_ms, job.status.maps_total(),
                 job.status.reduces_total());
  } else {
    spdlog::warn("job {} {} after {} ms: {}", id, proto::JobState_Name(state), ran_ms, error);
  }
  fair_.Remove(id);
  fx->ended_jobs.push_back(id);
  fx->changed_jobs.push_back(id);
}

Status Scheduler::Kill(uint64_t job_id, int64_t now_ms, Effects* fx) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  if (Finished(it->second.status)) {
    return Status::InvalidArgument(
        fmt::format("job {} has already ended ({})", job_id, JobStateName(it->second.status.state())));
  }
  FinishJob(it->second, proto::JOB_KILLED, "killed by the user", now_ms, fx);
  return Status::OK();
}

Status Scheduler::Fail(uint64_t job_id, const std::string& error, int64_t now_ms, Effects* fx) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  if (Finished(it->second.status)) return Status::OK();
  FinishJob(it->second, proto::JOB_FAILED, error, now_ms, fx);
  return Status::OK();
}

proto::AssignTask Scheduler::MakeAssignment(const Job& job, const Task& task, uint32_t attempt) const {
  const proto::JobSpec& spec = job.status.spec();
  proto::AssignTask a;
  a.set_job_id(job.status.job_id());
  a.set_kind(task.kind);
  a.set_index(task.index);
  a.set_attempt(attempt);
  a.set_job_name(spec.job());
  *a.mutable_args() = spec.args();
  a.set_job_lib(spec.job_lib());
  a.set_mapper(spec.mapper());
  a.set_reducer(spec.reducer());
  a.set_combiner(spec.combiner());
  a.set_reducers(spec.reducers());
  a.set_task_memory(spec.task_memory());
  *a.mutable_files() = spec.files();  // names and digests: a worker fetches the bytes (GetJobFile)
  a.set_task_timeout_ms(spec.task_timeout_ms());
  a.set_intermediate_codec(spec.intermediate_codec());
  if (task.kind == proto::TASK_MAP && spec.skip_bad_records() > 0) {
    a.set_skip_bad_records(spec.skip_bad_records());
    if (auto it = job.skipped.find(task.index); it != job.skipped.end()) {
      for (const proto::SkippedRecord& r : it->second) *a.add_skip_records() = r;
    }
  }
  if (task.kind == proto::TASK_MAP) {
    *a.mutable_split() = job.splits.Get(task.index);
    a.set_input_format(spec.input_format());
    if (job.map_only()) a.set_output_dir(spec.output());  // reducers is 0: it writes part-m-NNNNN
  } else {
    a.set_output_dir(spec.output());
    // One group per address: the message is O(maps + workers), not O(maps x address length).
    std::unordered_map<uint32_t, proto::MapOutputGroup*> groups;
    for (const Task& m : job.tasks.maps()) {
      proto::MapOutputGroup*& g = groups[m.done_address];
      if (g == nullptr) {
        g = a.add_map_output_groups();
        g->set_address(Name(m.done_address));
      }
      g->add_map_indexes(m.index);
      g->add_attempts(m.done_attempt);
    }
  }
  return a;
}

void Scheduler::SetCounters(CounterList* out, const google::protobuf::Map<std::string, int64_t>& in) {
  out->clear();
  out->reserve(in.size());
  for (auto& [k, v] : in) out->emplace_back(names_.Intern(k), v);
}

Scheduler::Worker* Scheduler::FreeWorker(const Job& job, const std::string& not_this) {
  if (!workers_.AnyFree()) return nullptr;
  auto live = [this](const std::string& id) { return workers_.Contains(id); };
  return workers_.FindFree([&](const Worker& w) {
    return w.id != not_this && !job.evidence.Blacklisted(w.id, live, workers_.size()) &&
           !job.evidence.Excluded(w.id) && (!job.user_code || w.allow_user_code);
  });
}

void Scheduler::Launch(Job& job, Task& t, Worker& w, int64_t now_ms, Effects* fx) {
  uint32_t attempt = ++t.attempts;
  if (t.rerun_pending) {
    t.rerun_pending = false;
    totals_.maps_rerun++;
  }
  StartRunning(job, t, attempt, w.id, now_ms);
  SetState(job, t, TaskState::kRunning);
  job.attempts_launched++;
  Task::Attempt h;
  h.attempt = attempt;
  h.worker = names_.Intern(w.id);
  h.start_ms = now_ms;
  t.history.push_back(std::move(h));
  if (t.history.size() > kAttemptHistory) t.history.erase(t.history.begin());
  totals_.attempts_launched++;
  fx->changed_tasks.push_back(Record(job, t));  // journaled before it is sent: attempts never repeat
  fx->assignments.emplace_back(w.id, MakeAssignment(job, t, attempt));
  spdlog::info("job {} {} {} attempt {} -> worker {}", job.status.job_id(), TaskKindName(t.kind), t.index,
               attempt, w.id);
}

void Scheduler::LaunchBackups(Job& job, int64_t now_ms, Effects* fx) {
  const int k = job.tasks.CurrentPhase();
  std::vector<Task>& phase = job.tasks.Phase(k);
  // Near the end of the phase only: no idle task left, and a median to compare with.
  if (job.tasks.IdleCount(k) > 0 || job.tasks.Durations(k).empty() || !workers_.AnyFree()) return;
  int64_t threshold = std::max<int64_t>(kMinBackupMs, 3 * job.tasks.Durations(k).Median());
  // Tasks running one attempt, oldest first: only those past the threshold are looked at.
  const auto& solo = job.tasks.Solo(k);
  for (auto it = solo.begin(); it != solo.end() && now_ms - it->first > threshold;) {
    Task* t = &phase[it->second];
    ++it;  // launching a backup drops t from the index
    Worker* w = FreeWorker(job, t->running.begin()->second.worker);
    if (w == nullptr) return;
    t->backups++;
    job.attempts_backup++;
    spdlog::info("job {} {} {} attempt {} on worker {} is slow ({} ms, threshold {} ms): starting a backup attempt",
                 job.status.job_id(), TaskKindName(t->kind), t->index, t->running.begin()->first,
                 t->running.begin()->second.worker, now_ms - t->running.begin()->second.start_ms, threshold);
    Launch(job, *t, *w, now_ms, fx);
    t->history.back().backup = true;
    totals_.attempts_backup++;
  }
}

void Scheduler::Schedule(int64_t now_ms, Effects* fx) {
  if (!held_retries_.empty()) ReleaseRetries(now_ms, fx);
  bool assign = std::exchange(dirty_, false);
  if (!workers_.AnyFree()) return;
  // One slot at a time to the neediest job that can use one (master/fair_share.h); each turn
  // launches a task, so the walk ends when the slots or the runnable tasks do. A job that cannot
  // use a slot now cannot later in the same pass (launching only uses up slots and tasks), so it
  // is passed over at once: a pass costs O((jobs + slots) log jobs), not jobs x slots.
  std::unordered_set<uint64_t> cannot;
  while (assign && workers_.AnyFree()) {
    Worker* w = nullptr;
    Task* t = nullptr;
    auto chosen = fair_.Neediest([&](uint64_t id) {
      if (cannot.contains(id)) return false;
      Job& job = jobs_.at(id);
      bool can = true;
      if (job.status.state() == proto::JOB_QUEUED && !fair_.MayStart(id)) can = false;
      if (can && job.status.state() == proto::JOB_RUNNING) {
        uint32_t most = job.status.spec().max_slots();
        can = job.output_ready && (most == 0 || fair_.Running(id) < most) && (t = job.tasks.NextIdle()) != nullptr;
      }
      can = can && (w = FreeWorker(job)) != nullptr;
      if (!can) cannot.insert(id);
      return can;
    });
    if (!chosen) break;
    Job& job = jobs_.at(*chosen);
    if (job.status.state() == proto::JOB_QUEUED) {
      // Its output first: the slot stays free for it, and OnOutputSetUp runs the next pass.
      StartJob(job, now_ms, fx);
      break;
    }
    Launch(job, *t, *w, now_ms, fx);
  }
  // A copy: the set must not change under the loop.
  for (uint64_t id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
    if (!workers_.AnyFree()) break;
    Job& job = jobs_.at(id);
    if (job.status.state() == proto::JOB_RUNNING && job.output_ready) LaunchBackups(job, now_ms, fx);
  }
  dirty_ = false;  // whatever the pass itself changed is accounted for
}

void Scheduler::MaybeSucceed(Job& job, int64_t now_ms, Effects* fx) {
  (void)now_ms;
  if (Finished(job.status) || job.committing_job || !job.output_ready || !job.tasks.built()) return;
  if (job.map_only() ? !job.tasks.AllDone(0) : job.tasks.reduces().empty() || !job.tasks.AllDone(1)) return;
  job.committing_job = true;
  CommitRequest commit{job.status.job_id(), job.status.spec().output(), std::nullopt, 0, {}};
  auto record_size = ParseInputFormat(job.status.spec().input_format());
  for (const auto& [map, records] : job.skipped) {
    if (map >= job.splits.size()) continue;
    const proto::InputSplit split = job.splits.Get(map);
    for (const proto::SkippedRecord& r : records) {
      const proto::InputSplit& part =
          split.parts_size() > 0 && r.part() < static_cast<uint32_t>(split.parts_size()) ? split.parts(static_cast<int>(r.part())) : split;
      commit.skipped.push_back({map, part.path(), r.offset(), record_size.ok() ? *record_size : 0});
    }
  }
  fx->commits.push_back(std::move(commit));
}

proto::TaskRecord Scheduler::Record(const Job& job, const Task& t) const {
  proto::TaskRecord r;
  r.set_job_id(job.status.job_id());
  r.set_kind(t.kind);
  r.set_index(t.index);
  r.set_attempts(t.attempts);
  r.set_failures(t.failures);
  r.set_done(t.state == TaskState::kDone);
  r.set_done_address(Name(t.done_address));
  r.set_done_attempt(t.done_attempt);
  r.set_duration_ms(t.duration_ms);
  for (auto& [k, v] : t.counters) (*r.mutable_counters())[Name(k)] = v;
  if (t.kind == proto::TASK_MAP) {
    if (auto it = job.skipped.find(t.index); it != job.skipped.end()) {
      for (const proto::SkippedRecord& s : it->second) *r.add_skipped() = s;
    }
  }
  return r;
}

uint64_t Scheduler::Demand(const Job& job) const {
  uint64_t d = 0;
  if (!job.tasks.built()) {
    d = job.splits.size() > 0 ? job.splits.size() : job.status.spec().reducers();
  } else {
    int k = job.tasks.CurrentPhase();
    d = job.tasks.Phase(k).size() - job.tasks.Done(k);
  }
  if (job.status.state() == proto::JOB_QUEUED && !fair_.MayStart(job.status.job_id())) return 0;
  uint32_t most = job.status.spec().max_slots();
  return most > 0 ? std::min<uint64_t>(d, most) : d;
}

std::map<uint64_t, uint64_t> Scheduler::Demands() const {
  std::map<uint64_t, uint64_t> demand;
  for (uint64_t id : active_jobs_) demand[id] = Demand(jobs_.at(id));
  return demand;
}

void Scheduler::SetPools(PoolsConfig pools) {
  fair_.Configure(std::move(pools));
  dirty_ = true;
}

std::vector<FairShare::PoolView> Scheduler::Pools() const { return fair_.Pools(Demands(), workers_.total_slots()); }

proto::JobStatus Scheduler::BuildStatus(const Job& job) const {
  proto::JobStatus s = job.status;
  if (Finished(s)) return s;  // kept as is
  if (workers_.empty()) {
    s.set_waiting("no worker is registered with the master");
  } else if (job.user_code && workers_.user_code_workers() == 0) {
    s.set_waiting("no live worker runs user code: start workers with --allow-user-code");
  }
  const uint64_t id = job.status.job_id();
  s.set_running_slots(fair_.Running(id));
  s.set_fair_share(fair_.Shares(Demands(), workers_.total_slots())[id]);
  if (uint32_t place = fair_.QueuePosition(id); place > 0 && !fair_.MayStart(id)) {
    s.set_queue_position(place);
  }
  if (s.queue_position() > 0 && s.waiting().empty()) {
    uint32_t place = s.queue_position();
    const std::string pool = PoolOf(s.spec());
    uint32_t limit = fair_.config().For(pool).max_running_jobs;
    s.set_waiting(fmt::format("pool {} runs its limit of {} job{}: number {} in its queue", pool, limit,
                              limit == 1 ? "" : "s", place));
  }
  if (!job.tasks.built()) return s;  // not started
  s.set_maps_total(job.tasks.maps().size());
  s.set_maps_done(job.tasks.Done(0));
  s.set_reduces_total(job.tasks.reduces().size());
  s.set_reduces_done(job.tasks.Done(1));
  auto& counters = *s.mutable_counters();
  counters.clear();
  for (auto& [k, v] : job.tasks.CounterSums()) counters[k] = v;  // summed as tasks finish (SetState)
  counters[counter::kAttemptsLaunched] = job.attempts_launched;
  counters[counter::kAttemptsFailed] = job.attempts_failed;
  counters[counter::kAttemptsBackup] = job.attempts_backup;
  if (job.attempts_preempted > 0) counters[counter::kAttemptsPreempted] = job.attempts_preempted;
  return s;
}

Result<proto::JobStatus> Scheduler::JobStatus(uint64_t id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", id));
  return BuildStatus(it->second);
}

std::vector<proto::JobStatus> Scheduler::AllJobs() const {
  std::vector<proto::JobStatus> out;
  for (auto& [id, j] : jobs_) out.push_back(BuildStatus(j));
  return out;
}

}  // namespace mr
