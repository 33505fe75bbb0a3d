#include "master/scheduler.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <fmt/format.h>
#include <fmt/ranges.h>

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
  Job& j = jobs_[id];
  active_jobs_.insert(id);
  dirty_ = true;
  j.status.set_job_id(id);
  *j.status.mutable_spec() = std::move(admitted.spec);
  j.status.set_state(proto::JOB_QUEUED);
  j.status.set_submit_time_ms(now_ms);
  j.status.set_input_bytes(admitted.input_bytes);
  j.splits = SplitTable(&admitted.plan);
  j.user_code = !j.status.spec().job_lib().empty() || !j.status.spec().mapper().empty();
  spdlog::info("job {} submitted: {} over {} files ({} bytes, {} splits), {} reducers, output {}", id,
               j.status.spec().job(), admitted.input_files, j.status.input_bytes(), j.splits.size(),
               j.status.spec().reducers(), j.status.spec().output());
  totals_.jobs_submitted++;
  fx->changed_jobs.push_back(id);
  return id;
}

void Scheduler::BuildTasks(Job& job) {
  job.maps.clear();
  job.reduces.clear();
  job.maps.resize(job.splits.size());
  for (size_t i = 0; i < job.maps.size(); i++) job.maps[i].index = static_cast<uint32_t>(i);
  for (uint32_t i = 0; i < job.status.spec().reducers(); i++) {
    Task t;
    t.kind = proto::TASK_REDUCE;
    t.index = i;
    job.reduces.push_back(std::move(t));
  }
  job.maps_done = job.reduces_done = 0;
  for (int k = 0; k < 2; k++) {
    uint32_t n = static_cast<uint32_t>(k == 0 ? job.maps.size() : job.reduces.size());
    job.idle[k].Reset(n);
    job.state_count[k][static_cast<int>(TaskState::kIdle)] = n;
    job.state_count[k][static_cast<int>(TaskState::kRunning)] = 0;
    job.state_count[k][static_cast<int>(TaskState::kDone)] = 0;
    job.done_durations[k] = {};
    job.solo[k].clear();
  }
  job.counter_sums.clear();
  job.orphans.clear();
  job.attempts_launched = job.attempts_failed = job.attempts_backup = 0;
}

void Scheduler::SetState(Job& job, Task& t, TaskState state) {
  if (t.state == state) return;
  int k = t.kind == proto::TASK_MAP ? 0 : 1;
  job.state_count[k][static_cast<int>(t.state)]--;
  job.state_count[k][static_cast<int>(state)]++;
  if (t.state == TaskState::kIdle) job.idle[k].MarkBusy(t.index);
  if (t.state == TaskState::kDone) {
    job.done_durations[k].Erase(t.duration_ms);
    AddCounters(job, t, -1);
  }
  t.state = state;
  if (state == TaskState::kIdle) job.idle[k].MarkIdle(t.index);
  if (state == TaskState::kDone) {
    job.done_durations[k].Insert(t.duration_ms);
    AddCounters(job, t, +1);
  }
  dirty_ = true;
}

void Scheduler::Reindex(Job& job, Task& t) {
  auto& solo = job.solo[t.kind == proto::TASK_MAP ? 0 : 1];
  if (t.solo_start_ms >= 0) solo.erase({t.solo_start_ms, t.index});
  t.solo_start_ms = -1;
  if (t.running.size() == 1) {
    t.solo_start_ms = t.running.begin()->second.start_ms;
    solo.insert({t.solo_start_ms, t.index});
  }
}

void Scheduler::AddCounters(Job& job, const Task& t, int sign) {
  // A counter stays listed once a task reported it, even if the task's output is lost later.
  for (auto& [k, v] : t.counters) job.counter_sums[Name(k)] += sign * v;
}

void Scheduler::SetOrphaned(Job& job, Task& t, int64_t since_ms) {
  t.orphaned_ms = since_ms;
  if (since_ms != 0) job.orphans.insert(t.index);
  else job.orphans.erase(t.index);
  dirty_ = true;
}

void Scheduler::Restore(const proto::JobStatus& status, const std::vector<proto::TaskRecord>& tasks,
                        Result<proto::JobPlan> plan, int64_t now_ms, Effects* fx) {
  Job& j = jobs_[status.job_id()];
  j.status = status;
  j.user_code = !status.spec().job_lib().empty() || !status.spec().mapper().empty();
  if (Finished(status)) return;
  active_jobs_.insert(status.job_id());
  dirty_ = true;
  Status s = plan.status();
  if (s.ok()) j.splits = SplitTable(&*plan);
  if (s.ok() && status.state() == proto::JOB_RUNNING) s = committer_.Resume(status.spec().output());
  if (!s.ok()) {
    FinishJob(j, proto::JOB_FAILED, "cannot resume after a master restart: " + s.message(), now_ms, fx);
    return;
  }
  if (status.state() != proto::JOB_RUNNING) return;
  BuildTasks(j);
  int resumed = 0;
  for (const proto::TaskRecord& r : tasks) {
    Task* t = FindTask(j, r.kind(), r.index());
    if (t == nullptr) continue;
    t->attempts = r.attempts();
    t->failures = r.failures();
    j.attempts_launched += r.attempts();
    j.attempts_failed += r.failures();
    if (!r.done()) continue;
    // A map's output is still on its worker if that worker is alive; who it is will be learned
    // from the first failed fetch. A reduce is done only if its commit reached the output.
    if (t->kind == proto::TASK_REDUCE && !committer_.IsCommitted(status.spec().output(), t->index)) continue;
    t->done_address = names_.Intern(r.done_address());
    t->done_attempt = r.done_attempt();
    t->duration_ms = r.duration_ms();
    SetCounters(&t->counters, r.counters());
    SetState(j, *t, TaskState::kDone);
    // A map's worker is unknown until it re-registers with the output (or a fetch fails).
    if (t->kind == proto::TASK_MAP) SetOrphaned(j, *t, now_ms);
    (t->kind == proto::TASK_MAP ? j.maps_done : j.reduces_done)++;
    resumed++;
  }
  spdlog::info("job {} resumed after a master restart: {} of {} tasks already done", status.job_id(),
               resumed, j.maps.size() + j.reduces.size());
  MaybeSucceed(j, now_ms, fx);
}

Status Scheduler::StartJob(Job& job, int64_t now_ms) {
  const proto::JobSpec& spec = job.status.spec();
  MR_RETURN_IF_ERROR(committer_.Setup(spec.output(), spec.overwrite()));
  BuildTasks(job);
  job.status.set_state(proto::JOB_RUNNING);
  job.status.set_start_time_ms(now_ms);
  spdlog::info("job {} started: {} map tasks, {} reduce tasks", job.status.job_id(), job.maps.size(),
               job.reduces.size());
  return Status::OK();
}

void Scheduler::FinishJob(Job& job, proto::JobState state, const std::string& error, int64_t now_ms,
                          Effects* fx) {
  proto::JobStatus summed = BuildStatus(job);  // its counters and counts, kept in the status from now on
  job.status.set_state(state);
  job.status.set_error(error);
  job.status.set_end_time_ms(now_ms);
  active_jobs_.erase(job.status.job_id());
  dirty_ = true;  // the next job may use the slots
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (Task& t : *tasks) {
      for (auto& [attempt, run] : t.running) {
        ReleaseSlot(run.worker);
        EndAttempt(job, t, attempt, AttemptOutcome::kKilled, now_ms,
                   state == proto::JOB_KILLED ? "the job was killed" : "the job ended");
      }
      t.running.clear();
    }
  }
  // The tasks as they ended, journaled; kept (compact) for Tasks() until the retention forgets the job.
  // Serialized messages concatenated parse as one whose repeated fields are concatenated: the
  // JobHistory is written a task at a time.
  proto::JobHistory history;
  history.set_job_id(job.status.job_id());
  std::string bytes = history.SerializeAsString();
  history.clear_job_id();
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (Task& t : *tasks) {
      history.clear_tasks();
      AppendTaskHistory(&history, MakeTaskInfo(job, t, now_ms));
      history.AppendToString(&bytes);
      t.counters = CounterList();  // summed into the status
    }
  }
  fx->histories.emplace_back(job.status.job_id(), std::move(bytes));
  totals_.jobs_finished++;
  *job.status.mutable_counters() = summed.counters();
  job.status.set_maps_total(job.maps.size());
  job.status.set_maps_done(job.maps_done);
  job.status.set_reduces_total(job.reduces.size());
  job.status.set_reduces_done(job.reduces_done);
  for (int k = 0; k < 2; k++) {
    job.idle[k] = {};
    job.done_durations[k] = {};
    job.solo[k].clear();
  }
  job.orphans.clear();
  job.counter_sums.clear();
  if (!job.status.spec().output().empty() && job.status.start_time_ms() != 0) {
    Status s = committer_.Cleanup(job.status.spec().output());
    if (!s.ok()) spdlog::warn("job {}: {}", job.status.job_id(), s.message());
  }
  uint64_t id = job.status.job_id();
  int64_t ran_ms = job.status.start_time_ms() ? now_ms - job.status.start_time_ms() : 0;
  if (state == proto::JOB_SUCCEEDED) {
    spdlog::info("job {} succeeded in {} ms: {} maps, {} reduces", id, ran_ms, job.status.maps_total(),
                 job.status.reduces_total());
  } else {
    spdlog::warn("job {} {} after {} ms: {}", id, proto::JobState_Name(state), ran_ms, error);
  }
  fx->ended_jobs.push_back(id);
  fx->changed_jobs.push_back(id);
}

Status Scheduler::Kill(uint64_t job_id, int64_t now_ms, Effects* fx) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  if (Finished(it->second.status)) {
    return Status::InvalidArgument(fmt::format("job {} has already finished ({})", job_id,
                                               proto::JobState_Name(it->second.status.state())));
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

Scheduler::Task* Scheduler::FindTask(Job& job, proto::TaskKind kind, uint32_t index) {
  auto& tasks = kind == proto::TASK_MAP ? job.maps : job.reduces;
  return index < tasks.size() ? &tasks[index] : nullptr;
}

Scheduler::Task* Scheduler::NextIdleTask(Job& job) {
  if (auto i = job.idle[0].Next()) return &job.maps[*i];
  // New reduce attempts wait while an output's worker is lost: they would only fail to fetch it.
  if (job.maps_done < job.maps.size() || !job.orphans.empty()) return nullptr;
  if (auto i = job.idle[1].Next()) return &job.reduces[*i];
  return nullptr;
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
  if (task.kind == proto::TASK_MAP) {
    *a.mutable_split() = job.splits.Get(task.index);
    a.set_input_format(spec.input_format());
  } else {
    a.set_output_dir(spec.output());
    // One group per address: the message is O(maps + workers), not O(maps x address length).
    std::unordered_map<uint32_t, proto::MapOutputGroup*> groups;
    for (const Task& m : job.maps) {
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

const std::string& Scheduler::Task::LastError() const {
  static const std::string kNone;
  return extra ? extra->last_error : kNone;
}

void Scheduler::SetCounters(CounterList* out, const google::protobuf::Map<std::string, int64_t>& in) {
  out->clear();
  out->reserve(in.size());
  for (auto& [k, v] : in) out->emplace_back(names_.Intern(k), v);
}

Scheduler::Worker* Scheduler::FreeWorker(const Job& job, const std::string& not_this) {
  if (free_slots_.empty()) return nullptr;
  auto blacklisted = [&](const std::string& id) {
    auto it = job.worker_failures.find(id);
    return it != job.worker_failures.end() && it->second >= kBlacklistFailures;
  };
  // The blacklist yields when it would leave the job without any worker.
  size_t live_blacklisted = 0;
  for (const auto& [id, failures] : job.worker_failures) {
    live_blacklisted += failures >= kBlacklistFailures && workers_.contains(id);
  }
  bool all_blacklisted = live_blacklisted == workers_.size();
  const std::string* best = free_slots_.Find([&](const std::string& id) {
    return id != not_this && (all_blacklisted || !blacklisted(id)) && !job.excluded.contains(id) &&
           (!job.user_code || workers_.at(id).allow_user_code);
  });
  return best ? &workers_.at(*best) : nullptr;
}

void Scheduler::Launch(Job& job, Task& t, Worker& w, int64_t now_ms, Effects* fx) {
  uint32_t attempt = ++t.attempts;
  if (t.rerun_pending) {
    t.rerun_pending = false;
    totals_.maps_rerun++;
  }
  t.running[attempt] = {w.id, now_ms};
  SetState(job, t, TaskState::kRunning);
  Reindex(job, t);
  SetRunning(w, w.running + 1);
  job.attempts_launched++;
  Attempt h;
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
  int k = job.maps_done < job.maps.size() ? 0 : 1;
  std::vector<Task>& phase = k == 0 ? job.maps : job.reduces;
  // Near the end of the phase only: no idle task left, and a median to compare with.
  if (job.idle[k].count() > 0 || job.done_durations[k].empty() || free_slots_.empty()) return;
  int64_t threshold = std::max<int64_t>(kMinBackupMs, 3 * job.done_durations[k].Median());
  // Tasks running one attempt, oldest first: only those past the threshold are looked at.
  for (auto it = job.solo[k].begin(); it != job.solo[k].end() && now_ms - it->first > threshold;) {
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
  if (free_slots_.empty()) return;
  // A copy: a job that fails to start finishes (and leaves the set) inside the loop.
  std::vector<uint64_t> active(active_jobs_.begin(), active_jobs_.end());
  for (uint64_t id : active) {
    Job& job = jobs_.at(id);
    if (Finished(job.status)) continue;
    if (assign) {
      if (FreeWorker(job) == nullptr) continue;
      if (job.status.state() == proto::JOB_QUEUED) {
        Status s = StartJob(job, now_ms);
        fx->changed_jobs.push_back(id);
        if (!s.ok()) {
          FinishJob(job, proto::JOB_FAILED, s.message(), now_ms, fx);
          continue;
        }
      }
      while (Worker* w = FreeWorker(job)) {
        Task* t = NextIdleTask(job);
        if (t == nullptr) break;
        Launch(job, *t, *w, now_ms, fx);
      }
    }
    if (job.status.state() == proto::JOB_RUNNING) LaunchBackups(job, now_ms, fx);
    if (free_slots_.empty()) break;
  }
  dirty_ = false;  // whatever the pass itself changed is accounted for
}

Status Scheduler::CommitReduce(Job& job, Task& task, const std::string& file) {
  return committer_.CommitTask(job.status.spec().output(), task.index, file);
}

void Scheduler::MaybeSucceed(Job& job, int64_t now_ms, Effects* fx) {
  if (Finished(job.status) || job.reduces.empty() || job.reduces_done < job.reduces.size()) return;
  Status s = committer_.CommitJob(job.status.spec().output());
  if (!s.ok()) FinishJob(job, proto::JOB_FAILED, s.message(), now_ms, fx);
  else FinishJob(job, proto::JOB_SUCCEEDED, "", now_ms, fx);
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
  return r;
}

proto::JobStatus Scheduler::BuildStatus(const Job& job) const {
  proto::JobStatus s = job.status;
  if (Finished(s) || (job.maps.empty() && job.reduces.empty())) return s;  // finished (kept as is), or not started
  s.set_maps_total(job.maps.size());
  s.set_maps_done(job.maps_done);
  s.set_reduces_total(job.reduces.size());
  s.set_reduces_done(job.reduces_done);
  auto& counters = *s.mutable_counters();
  counters.clear();
  for (auto& [k, v] : job.counter_sums) counters[k] = v;  // summed as tasks finish (SetState)
  counters["attempts.launched"] = job.attempts_launched;
  counters["attempts.failed"] = job.attempts_failed;
  counters["attempts.backup"] = job.attempts_backup;
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
