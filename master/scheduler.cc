#include "master/scheduler.h"

#include <algorithm>
#include <tuple>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/failpoint.h"
#include "common/job_state.h"
#include "common/log.h"
#include "jobs/job.h"

namespace mr {
namespace {

bool Finished(const proto::JobStatus& s) { return mr::Finished(s.state()); }

const char* TaskStateText(bool done, bool running) { return done ? "done" : running ? "running" : "idle"; }

}  // namespace

const char* AttemptOutcomeName(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kRunning: return "running";
    case AttemptOutcome::kSucceeded: return "succeeded";
    case AttemptOutcome::kFailed: return "failed";
    case AttemptOutcome::kLost: return "lost";
    case AttemptOutcome::kSuperseded: return "superseded";
    case AttemptOutcome::kKilled: return "killed";
  }
  return "unknown";
}

Result<uint64_t> Scheduler::Submit(uint64_t id, AdmittedJob admitted, int64_t now_ms, Effects* fx) {
  const std::string& output = admitted.spec.output();
  for (const auto& [other_id, other] : jobs_) {
    if (!Finished(other.status) && other.status.spec().output() == output) {
      return Status::AlreadyExists(fmt::format("output {} is the output of job {}, still unfinished", output,
                                               other_id));
    }
  }
  Job& j = jobs_[id];
  j.status.set_job_id(id);
  *j.status.mutable_spec() = std::move(admitted.spec);
  j.status.set_state(proto::JOB_QUEUED);
  j.status.set_submit_time_ms(now_ms);
  j.status.set_input_bytes(admitted.input_bytes);
  j.plan = std::move(admitted.plan);
  spdlog::info("job {} submitted: {} over {} files ({} bytes, {} splits), {} reducers, output {}", id,
               j.status.spec().job(), admitted.input_files, j.status.input_bytes(), j.plan.splits_size(),
               j.status.spec().reducers(), j.status.spec().output());
  totals_.jobs_submitted++;
  fx->changed_jobs.push_back(id);
  return id;
}

void Scheduler::BuildTasks(Job& job) {
  job.maps.clear();
  job.reduces.clear();
  for (int i = 0; i < job.plan.splits_size(); i++) {
    Task t;
    t.kind = proto::TASK_MAP;
    t.index = static_cast<uint32_t>(i);
    t.split = job.plan.splits(i);
    job.maps.push_back(std::move(t));
  }
  for (uint32_t i = 0; i < job.status.spec().reducers(); i++) {
    Task t;
    t.kind = proto::TASK_REDUCE;
    t.index = i;
    job.reduces.push_back(std::move(t));
  }
  job.maps_done = job.reduces_done = 0;
}

void Scheduler::Restore(const proto::JobStatus& status, const std::vector<proto::TaskRecord>& tasks,
                        Result<proto::JobPlan> plan, int64_t now_ms, Effects* fx) {
  Job& j = jobs_[status.job_id()];
  j.status = status;
  if (Finished(status)) return;
  Status s = plan.status();
  if (s.ok()) j.plan = std::move(*plan);
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
    if (!r.done()) continue;
    // A map's output is still on its worker if that worker is alive; who it is will be learned
    // from the first failed fetch. A reduce is done only if its commit reached the output.
    if (t->kind == proto::TASK_REDUCE && !committer_.IsCommitted(status.spec().output(), t->index)) continue;
    t->state = TaskState::kDone;
    if (t->kind == proto::TASK_MAP) {
      // Its worker is unknown until it re-registers with the output (or a fetch fails).
      t->orphaned_ms = now_ms;
      j.orphans++;
    }
    t->done_address = r.done_address();
    t->done_attempt = r.done_attempt();
    t->duration_ms = r.duration_ms();
    for (auto& [k, v] : r.counters()) t->counters[k] = v;
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
  job.status.set_state(state);
  job.status.set_error(error);
  job.status.set_end_time_ms(now_ms);
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (Task& t : *tasks) {
      for (auto& [attempt, run] : t.running) {
        auto w = workers_.find(run.worker);
        if (w != workers_.end() && w->second.running > 0) w->second.running--;
        EndAttempt(job, t, attempt, AttemptOutcome::kKilled, now_ms,
                   state == proto::JOB_KILLED ? "the job was killed" : "the job ended");
      }
      t.running.clear();
    }
  }
  // The dashboard shows the last finished jobs' tasks as they ended; older ones are forgotten.
  job.final_tasks.clear();
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (const Task& t : *tasks) job.final_tasks.push_back(MakeTaskInfo(t, now_ms));
  }
  if (!job.final_tasks.empty()) {
    jobs_with_final_tasks_.push_back(job.status.job_id());
    while (jobs_with_final_tasks_.size() > kFinishedJobsWithTasks) {
      auto old = jobs_.find(jobs_with_final_tasks_.front());
      if (old != jobs_.end()) old->second.final_tasks = {};
      jobs_with_final_tasks_.pop_front();
    }
  }
  totals_.jobs_finished++;
  // Counters are kept in the journal; the task tables are not needed any more.
  *job.status.mutable_counters() = BuildStatus(job).counters();
  job.status.set_maps_total(job.maps.size());
  job.status.set_maps_done(job.maps_done);
  job.status.set_reduces_total(job.reduces.size());
  job.status.set_reduces_done(job.reduces_done);
  job.maps.clear();
  job.reduces.clear();
  job.plan.Clear();
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

void Scheduler::AddWorker(const std::string& id, const std::string& address, uint32_t slots,
                          int64_t now_ms) {
  Effects fx;
  AddWorker(WorkerRegistration{id, 1, address, slots, "", 0, {}}, now_ms, &fx);
}

std::vector<uint64_t> Scheduler::AddWorker(const WorkerRegistration& reg, int64_t now_ms, Effects* fx) {
  auto it = workers_.find(reg.id);
  if (it != workers_.end() && it->second.incarnation != reg.incarnation) {
    // A new process on the same data dir: whatever the old one was running is lost.
    RemoveWorker(reg.id, "it restarted", now_ms, fx, Loss::kDisconnected);
    it = workers_.end();
  }
  bool returning = it != workers_.end();
  if (workers_.empty()) live_since_ms_ = now_ms;
  Worker& w = workers_[reg.id];
  w.id = reg.id;
  w.address = reg.address;
  w.slots = std::max<uint32_t>(1, reg.slots);
  w.last_heartbeat_ms = now_ms;
  w.incarnation = reg.incarnation;
  w.host = reg.host;
  w.pid = reg.pid;
  if (!returning) {
    w.registered_ms = now_ms;
    totals_.workers_registered++;
  }
  std::vector<uint64_t> drop;
  AdoptHeldOutputs(w, reg.held, now_ms, fx, &drop);
  for (uint64_t job : reg.jobs_with_data) {
    auto it = jobs_.find(job);
    bool over = it == jobs_.end() || Finished(it->second.status);
    if (over && std::find(drop.begin(), drop.end(), job) == drop.end()) drop.push_back(job);
  }
  return drop;
}

void Scheduler::AdoptHeldOutputs(const Worker& w, const std::vector<proto::HeldMapOutput>& held, int64_t now_ms,
                                 Effects* fx, std::vector<uint64_t>* drop_jobs) {
  using Key = std::tuple<uint64_t, uint32_t, uint32_t>;  // job, map, attempt
  std::set<Key> have;
  for (const proto::HeldMapOutput& h : held) {
    auto jit = jobs_.find(h.job_id());
    if (jit == jobs_.end() || Finished(jit->second.status)) {
      if (std::find(drop_jobs->begin(), drop_jobs->end(), h.job_id()) == drop_jobs->end()) {
        drop_jobs->push_back(h.job_id());
      }
      continue;
    }
    have.insert({h.job_id(), h.map_index(), h.attempt()});
  }
  for (auto& [job_id, job] : jobs_) {
    if (job.status.state() != proto::JOB_RUNNING || job.excluded.contains(w.id)) continue;
    for (Task& t : job.maps) {
      if (t.state == TaskState::kDone) {
        bool holds = have.contains({job_id, t.index, t.done_attempt});
        if (holds && (t.done_worker == w.id || t.done_worker.empty() || t.orphaned_ms != 0)) {
          // Its output is where it was (or has moved with the worker's new address).
          if (t.orphaned_ms != 0) {
            t.orphaned_ms = 0;
            job.orphans--;
            spdlog::info("job {} map {}: worker {} is back with its output", job_id, t.index, w.id);
          }
          t.done_worker = w.id;
          t.done_address = w.address;
          fx->changed_tasks.push_back(Record(job, t));
        } else if (!holds && t.done_worker == w.id && t.orphaned_ms != 0) {
          RevertMap(job, t, fmt::format("worker {} came back without its output", w.id), fx);
        }
        continue;
      }
      // Not done (lost, or re-running): any complete output of the map will do.
      auto lo = have.lower_bound({job_id, t.index, 0});
      if (lo == have.end() || std::get<0>(*lo) != job_id || std::get<1>(*lo) != t.index) continue;
      uint32_t attempt = std::get<2>(*lo);
      for (auto& [a, run] : t.running) {
        auto rw = workers_.find(run.worker);
        if (rw != workers_.end() && rw->second.running > 0) rw->second.running--;
        EndAttempt(job, t, a, AttemptOutcome::kSuperseded, now_ms,
                   fmt::format("worker {} came back with the output of attempt {}", w.id, attempt));
      }
      t.running.clear();
      t.state = TaskState::kDone;
      t.rerun_pending = false;
      t.fetch_failures = 0;
      t.done_worker = w.id;
      t.done_address = w.address;
      t.done_attempt = attempt;
      if (t.stashed_attempt == attempt) t.counters = std::move(t.stashed_counters);
      t.stashed_counters.clear();
      if (AttemptInfo* h = History(t, attempt)) {
        h->outcome = AttemptOutcome::kSucceeded;
        h->error.clear();
      }
      job.maps_done++;
      spdlog::info("job {} map {}: re-adopted the output of attempt {} from worker {}", job_id, t.index, attempt,
                   w.id);
      fx->changed_tasks.push_back(Record(job, t));
    }
  }
}

void Scheduler::Heartbeat(const std::string& id, int64_t now_ms) {
  auto it = workers_.find(id);
  if (it != workers_.end()) it->second.last_heartbeat_ms = now_ms;
}

void Scheduler::RevertMap(Job& job, Task& t, const std::string& why, Effects* fx) {
  t.state = TaskState::kIdle;
  t.stashed_attempt = t.done_attempt;
  t.stashed_counters = std::move(t.counters);
  t.counters.clear();
  t.fetch_failures = 0;
  t.done_worker.clear();
  t.done_address.clear();
  t.rerun_pending = true;
  if (t.orphaned_ms != 0) {
    t.orphaned_ms = 0;
    job.orphans--;
  }
  job.maps_done--;
  // The successful attempt's work is lost: the timeline shows it so.
  if (AttemptInfo* h = History(t, t.done_attempt); h && h->outcome == AttemptOutcome::kSucceeded) {
    h->outcome = AttemptOutcome::kLost;
    h->error = "output lost: " + why;
  }
  spdlog::info("job {} map {}: {}; it will run again", job.status.job_id(), t.index, why);
  fx->changed_tasks.push_back(Record(job, t));
}

void Scheduler::LoseAttempt(Job& job, Task& t, uint32_t attempt, const std::string& why, int64_t now_ms) {
  auto it = t.running.find(attempt);
  if (it == t.running.end()) return;
  spdlog::info("job {} {} {} attempt {} on worker {} is lost: {}", job.status.job_id(), TaskKindName(t.kind), t.index,
               attempt, it->second.worker, why);
  auto w = workers_.find(it->second.worker);
  if (w != workers_.end() && w->second.running > 0) w->second.running--;
  EndAttempt(job, t, attempt, AttemptOutcome::kLost, now_ms, why);
  t.running.erase(it);
  if (t.state == TaskState::kRunning && t.running.empty()) t.state = TaskState::kIdle;
}

bool Scheduler::ChargeTask(Job& job, Task& t, int64_t now_ms, Effects* fx) {
  std::string error;
  if (t.failures >= kMaxAttempts) {
    error = fmt::format("{} task {} failed {} times; last error: {}", TaskKindName(t.kind), t.index, t.failures,
                        t.last_error);
  } else if (t.lost_attempts >= kMaxLostAttempts) {
    error = fmt::format("{} task {} was lost with its worker {} times in a row, each time alone on it (a task "
                        "that kills or cuts off every worker it runs on); last: {}",
                        TaskKindName(t.kind), t.index, t.lost_attempts, t.last_error);
  } else {
    return false;
  }
  FinishJob(job, proto::JOB_FAILED, error, now_ms, fx);
  return true;
}

void Scheduler::RemoveWorker(const std::string& id, const std::string& reason, int64_t now_ms, Effects* fx,
                             Loss loss) {
  auto gone = workers_.find(id);
  if (gone == workers_.end()) return;
  lost_workers_.push_back({id, gone->second.address, reason, now_ms, gone->second.succeeded, gone->second.failed});
  if (lost_workers_.size() > kLostWorkersKept) lost_workers_.pop_front();
  totals_.workers_lost++;
  workers_.erase(gone);
  spdlog::warn("worker {} is gone ({}); its running attempts are rescheduled", id, reason);
  std::string why = fmt::format("worker {} lost: {}", id, reason);
  // An attempt that was alone on the worker when it died is charged for it (it may be what kills
  // or cuts off its workers); attempts that shared the worker are not.
  size_t attempts_on_worker = 0;
  for (auto& [job_id, job] : jobs_) {
    if (job.status.state() != proto::JOB_RUNNING) continue;
    for (auto* tasks : {&job.maps, &job.reduces}) {
      for (Task& t : *tasks) {
        for (auto& [attempt, run] : t.running) attempts_on_worker += run.worker == id;
      }
    }
  }
  for (auto& [job_id, job] : jobs_) {
    if (job.status.state() != proto::JOB_RUNNING) continue;
    bool reduces_left = job.reduces_done < job.reduces.size();
    Task* exhausted = nullptr;
    for (auto* tasks : {&job.maps, &job.reduces}) {
      for (Task& t : *tasks) {
        std::vector<uint32_t> lost;
        for (auto& [attempt, run] : t.running) {
          if (run.worker == id) lost.push_back(attempt);
        }
        for (uint32_t attempt : lost) {
          LoseAttempt(job, t, attempt, why, now_ms);
          if (attempts_on_worker == 1) t.lost_attempts++;
          t.last_error = why;
          if (t.lost_attempts >= kMaxLostAttempts && !exhausted) exhausted = &t;
        }
        // A finished map's output lives on the worker's disk. A dead worker's runs again now; a
        // silent worker's is orphaned: reducers may still reach it (only the master may have
        // lost it), and the worker may come back with it. It runs again when a fetch fails or the
        // recovery grace ends (Tick).
        if (t.kind != proto::TASK_MAP || t.state != TaskState::kDone || t.done_worker != id || !reduces_left) {
          continue;
        }
        if (loss == Loss::kDisconnected) {
          RevertMap(job, t, fmt::format("its output was lost with worker {}", id), fx);
        } else if (t.orphaned_ms == 0) {
          t.orphaned_ms = now_ms;
          job.orphans++;
        }
      }
    }
    if (exhausted) ChargeTask(job, *exhausted, now_ms, fx);
  }
  Schedule(now_ms, fx);
}

void Scheduler::Tick(int64_t now_ms, Effects* fx) {
  if (!workers_.empty()) {
    for (auto& [job_id, job] : jobs_) {
      if (job.orphans == 0 || job.status.state() != proto::JOB_RUNNING) continue;
      for (Task& t : job.maps) {
        if (t.orphaned_ms == 0) continue;
        int64_t since = std::max(t.orphaned_ms, live_since_ms_);
        if (now_ms - since < options_.recovery_grace_ms) continue;
        RevertMap(job, t,
                  fmt::format("its worker {} did not come back within {} ms",
                              t.done_worker.empty() ? "(unknown since a master restart)" : t.done_worker,
                              options_.recovery_grace_ms),
                  fx);
      }
    }
  }
  Schedule(now_ms, fx);
}

std::vector<std::string> Scheduler::SilentWorkers(int64_t now_ms, int64_t timeout_ms) const {
  std::vector<std::string> out;
  for (auto& [id, w] : workers_) {
    if (now_ms - w.last_heartbeat_ms > timeout_ms) out.push_back(id);
  }
  return out;
}

Scheduler::Task* Scheduler::FindTask(Job& job, proto::TaskKind kind, uint32_t index) {
  auto& tasks = kind == proto::TASK_MAP ? job.maps : job.reduces;
  return index < tasks.size() ? &tasks[index] : nullptr;
}

Scheduler::Task* Scheduler::NextIdleTask(Job& job) {
  for (Task& t : job.maps) {
    if (t.state == TaskState::kIdle) return &t;
  }
  // New reduce attempts wait while an output's worker is lost: they would only fail to fetch it.
  if (job.maps_done < job.maps.size() || job.orphans > 0) return nullptr;
  for (Task& t : job.reduces) {
    if (t.state == TaskState::kIdle) return &t;
  }
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
    *a.mutable_split() = task.split;
    a.set_input_format(spec.input_format());
  } else {
    a.set_output_dir(spec.output());
    for (const Task& m : job.maps) {
      auto* loc = a.add_map_outputs();
      loc->set_map_index(m.index);
      loc->set_address(m.done_address);
      loc->set_attempt(m.done_attempt);
    }
  }
  return a;
}

Scheduler::Worker* Scheduler::FreeWorker(const Job& job, const std::string& not_this) {
  auto blacklisted = [&](const Worker& w) {
    auto it = job.worker_failures.find(w.id);
    return it != job.worker_failures.end() && it->second >= kBlacklistFailures;
  };
  // The blacklist yields when it would leave the job without any worker.
  bool all_blacklisted = std::all_of(workers_.begin(), workers_.end(),
                                     [&](const auto& kv) { return blacklisted(kv.second); });
  Worker* best = nullptr;
  for (auto& [id, w] : workers_) {
    if (w.running >= w.slots || id == not_this || (blacklisted(w) && !all_blacklisted) ||
        job.excluded.contains(id)) {
      continue;
    }
    if (!best || w.slots - w.running > best->slots - best->running) best = &w;
  }
  return best;
}

void Scheduler::Launch(Job& job, Task& t, Worker& w, int64_t now_ms, Effects* fx) {
  uint32_t attempt = ++t.attempts;
  if (t.rerun_pending) {
    t.rerun_pending = false;
    totals_.maps_rerun++;
  }
  t.running[attempt] = {w.id, now_ms};
  t.state = TaskState::kRunning;
  w.running++;
  AttemptInfo h;
  h.attempt = attempt;
  h.worker = w.id;
  h.start_ms = now_ms;
  t.history.push_back(std::move(h));
  if (t.history.size() > kAttemptHistory) t.history.pop_front();
  totals_.attempts_launched++;
  fx->changed_tasks.push_back(Record(job, t));  // journaled before it is sent: attempts never repeat
  fx->assignments.emplace_back(w.id, MakeAssignment(job, t, attempt));
  spdlog::info("job {} {} {} attempt {} -> worker {}", job.status.job_id(), TaskKindName(t.kind), t.index,
               attempt, w.id);
}

void Scheduler::LaunchBackups(Job& job, int64_t now_ms, Effects* fx) {
  bool map_phase = job.maps_done < job.maps.size();
  std::vector<Task>& phase = map_phase ? job.maps : job.reduces;
  std::vector<int64_t> durations;
  for (const Task& t : phase) {
    if (t.state == TaskState::kIdle) return;  // not near the end yet
    if (t.state == TaskState::kDone) durations.push_back(t.duration_ms);
  }
  if (durations.empty()) return;
  std::nth_element(durations.begin(), durations.begin() + durations.size() / 2, durations.end());
  int64_t threshold = std::max<int64_t>(kMinBackupMs, 3 * durations[durations.size() / 2]);
  std::vector<Task*> slow;
  for (Task& t : phase) {
    if (t.state == TaskState::kRunning && t.running.size() == 1 &&
        now_ms - t.running.begin()->second.start_ms > threshold) {
      slow.push_back(&t);
    }
  }
  std::sort(slow.begin(), slow.end(), [](const Task* a, const Task* b) {
    return a->running.begin()->second.start_ms < b->running.begin()->second.start_ms;
  });
  for (Task* t : slow) {
    Worker* w = FreeWorker(job, t->running.begin()->second.worker);
    if (w == nullptr) return;
    t->backups++;
    spdlog::info("job {} {} {} attempt {} on worker {} is slow ({} ms, threshold {} ms): starting a backup attempt",
                 job.status.job_id(), TaskKindName(t->kind), t->index, t->running.begin()->first,
                 t->running.begin()->second.worker, now_ms - t->running.begin()->second.start_ms, threshold);
    Launch(job, *t, *w, now_ms, fx);
    t->history.back().backup = true;
    totals_.attempts_backup++;
  }
}

void Scheduler::Schedule(int64_t now_ms, Effects* fx) {
  for (auto& [id, job] : jobs_) {
    if (Finished(job.status)) continue;
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
    LaunchBackups(job, now_ms, fx);
  }
}

void Scheduler::AttemptEnded(Task& task, uint32_t attempt) {
  auto it = task.running.find(attempt);
  auto w = workers_.find(it->second.worker);
  if (w != workers_.end() && w->second.running > 0) w->second.running--;
  task.running.erase(it);
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

bool Scheduler::AcceptLateReport(Job& job, Task& task, const std::string& worker_id, const proto::TaskReport& r) {
  // An attempt that was lost with its worker (cut off from the master, not dead) and finished
  // anyway: its result is as good as any other attempt's while the task is not done.
  if (!r.ok() || task.state == TaskState::kDone || job.excluded.contains(worker_id) ||
      !workers_.contains(worker_id)) {
    return false;
  }
  AttemptInfo* h = History(task, r.attempt());
  return h != nullptr && h->worker == worker_id && h->outcome == AttemptOutcome::kLost;
}

void Scheduler::OnReport(const std::string& worker_id, const proto::TaskReport& r, int64_t now_ms,
                         Effects* fx) {
  auto jit = jobs_.find(r.job_id());
  if (jit == jobs_.end() || Finished(jit->second.status)) return;
  Job& job = jit->second;
  Task* task = FindTask(job, r.kind(), r.index());
  if (task == nullptr) return;
  auto att = task->running.find(r.attempt());
  int64_t started = now_ms;
  if (att != task->running.end() && att->second.worker == worker_id) {
    started = att->second.start_ms;
    AttemptEnded(*task, r.attempt());
    task->lost_attempts = 0;  // it ended without taking its worker down
  } else if (AcceptLateReport(job, *task, worker_id, r)) {
    started = History(*task, r.attempt())->start_ms;
    spdlog::info("job {} {} {} attempt {}: accepting the late report of worker {}, which was cut off but kept "
                 "working", r.job_id(), TaskKindName(r.kind()), r.index(), r.attempt(), worker_id);
  } else {
    if (r.ok() && task->kind == proto::TASK_MAP && task->state == TaskState::kDone &&
        task->done_worker == worker_id && task->done_attempt == r.attempt() && task->counters.empty()) {
      // The report of an output that was re-adopted before its report arrived: only its counters.
      for (auto& [k, v] : r.counters()) task->counters[k] = v;
      for (auto& [k, v] : r.counters()) totals_.counters[k] += v;
      fx->changed_tasks.push_back(Record(job, *task));
      return;
    }
    spdlog::info("job {} {} {} attempt {}: ignoring a stale report from {}", r.job_id(), TaskKindName(r.kind()),
                 r.index(), r.attempt(), worker_id);
    return;
  }
  auto w = workers_.find(worker_id);
  Status failure = r.ok() ? Status::OK() : Status::Aborted(r.error());
  bool succeeded = false;
  if (r.ok() && task->state != TaskState::kDone) {
    if (task->kind == proto::TASK_REDUCE) failure = CommitReduce(job, *task, r.output_file());
    if (failure.ok()) {
      succeeded = true;
      task->state = TaskState::kDone;
      task->duration_ms = now_ms - started;
      task->counters.clear();
      for (auto& [k, v] : r.counters()) task->counters[k] = v;
      for (auto& [k, v] : r.counters()) totals_.counters[k] += v;
      if (w != workers_.end()) w->second.succeeded++;
      spdlog::info("job {} {} {} attempt {} on worker {} succeeded in {} ms", r.job_id(), TaskKindName(r.kind()),
                   r.index(), r.attempt(), worker_id, task->duration_ms);
      EndAttempt(job, *task, r.attempt(), AttemptOutcome::kSucceeded, now_ms);
      // Other attempts of the task (backups) lost the race: forget them.
      for (auto& [attempt, run] : task->running) {
        auto lw = workers_.find(run.worker);
        if (lw != workers_.end() && lw->second.running > 0) lw->second.running--;
        spdlog::info("job {} {} {} attempt {} on worker {} is superseded by attempt {}", r.job_id(),
                     TaskKindName(r.kind()), r.index(), attempt, run.worker, r.attempt());
        EndAttempt(job, *task, attempt, AttemptOutcome::kSuperseded, now_ms,
                   fmt::format("attempt {} finished first", r.attempt()));
      }
      task->running.clear();
      task->rerun_pending = false;
      task->stashed_counters.clear();
      if (task->kind == proto::TASK_MAP) {
        task->done_worker = worker_id;
        task->done_address = w != workers_.end() ? w->second.address : "";
        task->done_attempt = r.attempt();
        task->fetch_failures = 0;
        job.maps_done++;
      } else {
        job.reduces_done++;
      }
      fx->changed_tasks.push_back(Record(job, *task));
    }
  }
  if (!failure.ok()) {
    EndAttempt(job, *task, r.attempt(), AttemptOutcome::kFailed, now_ms, failure.message());
    if (w != workers_.end()) w->second.failed++;
    task->last_error = failure.message();
    spdlog::warn("job {} {} {} attempt {} on worker {} failed: {}", r.job_id(), TaskKindName(r.kind()), r.index(),
                 r.attempt(), worker_id, failure.message());
    if (r.failed_maps_size() > 0 || r.failed_fetches_size() > 0) {
      OnFetchFailure(job, *task, worker_id, r, now_ms, fx);
      if (Finished(job.status)) {
        Schedule(now_ms, fx);
        return;
      }
    } else if (task->state != TaskState::kDone) {
      task->failures++;
      job.worker_failures[worker_id]++;
      fx->changed_tasks.push_back(Record(job, *task));
      if (ChargeTask(job, *task, now_ms, fx)) {
        Schedule(now_ms, fx);
        return;
      }
    }
    if (task->state == TaskState::kRunning && task->running.empty()) task->state = TaskState::kIdle;
  } else if (!succeeded) {
    EndAttempt(job, *task, r.attempt(), AttemptOutcome::kSuperseded, now_ms, "the task was already done");
  }
  MaybeSucceed(job, now_ms, fx);
  Schedule(now_ms, fx);
}

void Scheduler::OnFetchFailure(Job& job, Task& reduce, const std::string& reducer, const proto::TaskReport& r,
                               int64_t now_ms, Effects* fx) {
  // Where the fetches failed: as reported, or (from an older worker) each failed map's location now.
  std::vector<proto::MapOutputLocation> locations(r.failed_fetches().begin(), r.failed_fetches().end());
  if (locations.empty()) {
    for (uint32_t m : r.failed_maps()) {
      Task* map = FindTask(job, proto::TASK_MAP, m);
      if (map == nullptr) continue;
      proto::MapOutputLocation loc;
      loc.set_map_index(m);
      loc.set_address(map->done_address);
      loc.set_attempt(map->done_attempt);
      locations.push_back(loc);
    }
  }
  std::set<std::string> holders;
  bool against_live = false;  // a failure against a live holder, rather than news of a lost output
  for (const proto::MapOutputLocation& loc : locations) {
    Task* map = FindTask(job, proto::TASK_MAP, loc.map_index());
    // A failure against an output that has moved on (re-run, re-adopted elsewhere) says nothing.
    if (map == nullptr || map->state != TaskState::kDone || map->done_address != loc.address() ||
        map->done_attempt != loc.attempt()) {
      continue;
    }
    const std::string holder = map->done_worker;
    if (holder.empty() || map->orphaned_ms != 0 || !workers_.contains(holder)) {
      RevertMap(job, *map, "its output cannot be fetched and its worker is gone", fx);
      continue;
    }
    against_live = true;
    if (holder != reducer) {
      job.unreachable_from[holder].insert(reducer);
      job.could_not_reach[reducer].insert(holder);
      holders.insert(holder);
    }
    if (++map->fetch_failures >= kFetchFailuresToRerun) {
      if (++map->fetch_reruns > kMaxFetchReruns) {
        FinishJob(job, proto::JOB_FAILED,
                  fmt::format("the output of map task {} could not be fetched after it ran {} times; last error: {}",
                              map->index, map->fetch_reruns, r.error()),
                  now_ms, fx);
        return;
      }
      RevertMap(job, *map, "its output could not be fetched repeatedly", fx);
    }
  }
  // Evidence about nodes (Spark's exclusion on fetch failure; Hadoop's reducer health check).
  for (const std::string& h : holders) {
    const auto& from = job.unreachable_from[h];
    if (job.excluded.contains(h) || from.size() < kExcludeEvidence) continue;
    Exclude(job, h, fmt::format("reducers on {} workers ({}) could not fetch its map output", from.size(),
                                fmt::join(from, ", ")),
            now_ms, fx);
    if (Finished(job.status)) return;
  }
  if (!job.excluded.contains(reducer) && workers_.contains(reducer)) {
    std::vector<std::string> reachable_others;
    for (const std::string& h : job.could_not_reach[reducer]) {
      if (workers_.contains(h) && !job.excluded.contains(h)) reachable_others.push_back(h);
    }
    if (reachable_others.size() >= kExcludeEvidence) {
      Exclude(job, reducer, fmt::format("its reducers could not fetch from {} live workers ({})",
                                        reachable_others.size(), fmt::join(reachable_others, ", ")),
              now_ms, fx);
      if (Finished(job.status)) return;
    }
  }
  // The reduce waits for the maps and is not charged, up to a bound: after that every attempt
  // that failed to fetch from a live worker counts as a failure, so a reduce that can never fetch
  // ends the job.
  if (against_live && ++reduce.fetch_failed_attempts > kMaxFetchFailedReduces) {
    reduce.failures++;
    fx->changed_tasks.push_back(Record(job, reduce));
    ChargeTask(job, reduce, now_ms, fx);
  }
}

void Scheduler::Exclude(Job& job, const std::string& worker, const std::string& why, int64_t now_ms, Effects* fx) {
  job.excluded[worker] = why;
  spdlog::warn("job {}: worker {} is excluded from the job: {}", job.status.job_id(), worker, why);
  std::string lost = fmt::format("worker {} is excluded from the job: {}", worker, why);
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (Task& t : *tasks) {
      std::vector<uint32_t> attempts;
      for (auto& [attempt, run] : t.running) {
        if (run.worker == worker) attempts.push_back(attempt);
      }
      for (uint32_t a : attempts) LoseAttempt(job, t, a, lost, now_ms);
      if (t.kind == proto::TASK_MAP && t.state == TaskState::kDone && t.done_worker == worker) {
        RevertMap(job, t, lost, fx);
      }
    }
  }
  bool any_left = std::any_of(workers_.begin(), workers_.end(),
                              [&](const auto& kv) { return !job.excluded.contains(kv.first); });
  if (!any_left) {
    std::vector<std::string> reasons;
    for (auto& [w, reason] : job.excluded) reasons.push_back(fmt::format("{}: {}", w, reason));
    FinishJob(job, proto::JOB_FAILED,
              fmt::format("no worker is left to run the job; excluded: {}", fmt::join(reasons, "; ")), now_ms, fx);
  }
}

proto::TaskRecord Scheduler::Record(const Job& job, const Task& t) const {
  proto::TaskRecord r;
  r.set_job_id(job.status.job_id());
  r.set_kind(t.kind);
  r.set_index(t.index);
  r.set_attempts(t.attempts);
  r.set_failures(t.failures);
  r.set_done(t.state == TaskState::kDone);
  r.set_done_address(t.done_address);
  r.set_done_attempt(t.done_attempt);
  r.set_duration_ms(t.duration_ms);
  for (auto& [k, v] : t.counters) (*r.mutable_counters())[k] = v;
  return r;
}

proto::JobStatus Scheduler::BuildStatus(const Job& job) const {
  proto::JobStatus s = job.status;
  if (job.maps.empty() && job.reduces.empty()) return s;  // not started, or finished (kept as is)
  s.set_maps_total(job.maps.size());
  s.set_maps_done(job.maps_done);
  s.set_reduces_total(job.reduces.size());
  s.set_reduces_done(job.reduces_done);
  auto& counters = *s.mutable_counters();
  counters.clear();
  int64_t attempts = 0, failed = 0, backups = 0;
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (const Task& t : *tasks) {
      attempts += t.attempts;
      failed += t.failures;
      backups += t.backups;
      if (t.state != TaskState::kDone) continue;
      for (auto& [k, v] : t.counters) counters[k] += v;
    }
  }
  counters["attempts.launched"] = attempts;
  counters["attempts.failed"] = failed;
  counters["attempts.backup"] = backups;
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

AttemptInfo* Scheduler::History(Task& task, uint32_t attempt) {
  for (auto it = task.history.rbegin(); it != task.history.rend(); ++it) {
    if (it->attempt == attempt) return &*it;
  }
  return nullptr;
}

void Scheduler::EndAttempt(Job& job, Task& task, uint32_t attempt, AttemptOutcome outcome, int64_t now_ms,
                           const std::string& error) {
  std::string worker;
  if (auto run = task.running.find(attempt); run != task.running.end()) worker = run->second.worker;
  if (AttemptInfo* h = History(task, attempt)) {
    h->end_ms = now_ms;
    h->outcome = outcome;
    h->error = error;
    if (worker.empty()) worker = h->worker;
  }
  switch (outcome) {
    case AttemptOutcome::kSucceeded: totals_.attempts_succeeded++; break;
    case AttemptOutcome::kFailed: totals_.attempts_failed++; break;
    case AttemptOutcome::kLost: totals_.attempts_lost++; break;
    default: break;
  }
  if (outcome != AttemptOutcome::kFailed && outcome != AttemptOutcome::kLost) return;
  auto* list = job.status.mutable_failed_attempts();
  proto::AttemptFailure* f = list->Add();
  f->set_kind(task.kind);
  f->set_index(task.index);
  f->set_attempt(attempt);
  f->set_worker(worker);
  f->set_error(error.size() > kFailedAttemptErrorBytes ? error.substr(0, kFailedAttemptErrorBytes) + "..." : error);
  f->set_time_ms(now_ms);
  f->set_lost(outcome == AttemptOutcome::kLost);
  if (static_cast<size_t>(list->size()) > kFailedAttemptsKept) list->DeleteSubrange(0, list->size() - kFailedAttemptsKept);
}

TaskInfo Scheduler::MakeTaskInfo(const Task& t, int64_t now_ms) const {
  TaskInfo i;
  i.kind = t.kind;
  i.index = t.index;
  bool done = t.state == TaskState::kDone;
  i.state = TaskStateText(done, t.state == TaskState::kRunning);
  if (t.state == TaskState::kRunning && t.running.empty()) i.state = "killed";  // its job ended
  i.attempts = t.attempts;
  i.failures = t.failures;
  i.backups = t.backups;
  i.last_error = t.last_error;
  if (t.kind == proto::TASK_MAP) i.split = t.split;
  i.history.assign(t.history.begin(), t.history.end());
  if (done) {
    i.worker = t.done_worker;
    i.duration_ms = t.duration_ms;
    for (auto it = t.history.rbegin(); it != t.history.rend(); ++it) {
      if (it->outcome == AttemptOutcome::kSucceeded) {
        i.worker = it->worker;
        i.start_ms = it->start_ms;
        break;
      }
    }
  } else if (!t.running.empty()) {
    const auto& [attempt, run] = *t.running.rbegin();
    i.worker = run.worker;
    i.start_ms = run.start_ms;
    i.duration_ms = now_ms - run.start_ms;
  } else if (!t.history.empty()) {
    const AttemptInfo& last = t.history.back();
    i.worker = last.worker;
    i.start_ms = last.start_ms;
    i.duration_ms = (last.end_ms ? last.end_ms : now_ms) - last.start_ms;
  }
  return i;
}

Result<std::vector<TaskInfo>> Scheduler::Tasks(uint64_t job_id, int64_t now_ms) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  const Job& job = it->second;
  if (Finished(job.status)) return job.final_tasks;
  std::vector<TaskInfo> out;
  out.reserve(job.maps.size() + job.reduces.size());
  for (auto* tasks : {&job.maps, &job.reduces}) {
    for (const Task& t : *tasks) out.push_back(MakeTaskInfo(t, now_ms));
  }
  return out;
}

std::vector<Scheduler::TaskCount> Scheduler::TaskCounts(std::optional<uint64_t> job_id) const {
  std::vector<TaskCount> out;
  for (proto::TaskKind kind : {proto::TASK_MAP, proto::TASK_REDUCE}) {
    uint64_t n[3] = {0, 0, 0};
    for (auto& [id, job] : jobs_) {
      if (Finished(job.status) || (job_id && id != *job_id)) continue;
      for (const Task& t : kind == proto::TASK_MAP ? job.maps : job.reduces) n[static_cast<int>(t.state)]++;
    }
    out.push_back({kind, "idle", n[static_cast<int>(TaskState::kIdle)]});
    out.push_back({kind, "running", n[static_cast<int>(TaskState::kRunning)]});
    out.push_back({kind, "done", n[static_cast<int>(TaskState::kDone)]});
  }
  return out;
}

int64_t Scheduler::WorkerRegisteredMs(const std::string& id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? 0 : it->second.registered_ms;
}

std::vector<proto::WorkerInfo> Scheduler::Workers(int64_t now_ms) const {
  std::vector<proto::WorkerInfo> out;
  for (auto& [id, w] : workers_) {
    proto::WorkerInfo i;
    i.set_worker_id(id);
    i.set_shuffle_address(w.address);
    i.set_slots(w.slots);
    i.set_running(w.running);
    i.set_heartbeat_age_ms(now_ms - w.last_heartbeat_ms);
    i.set_tasks_succeeded(w.succeeded);
    i.set_tasks_failed(w.failed);
    out.push_back(i);
  }
  return out;
}

}  // namespace mr
