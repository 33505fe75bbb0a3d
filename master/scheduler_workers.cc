// Scheduler: workers joining, coming back and leaving, and what their loss does to the work
// (orphaned outputs, their recovery grace, re-adoption). The class is in master/scheduler.h.
#include "master/scheduler.h"


#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>
#include <tuple>

#include "common/log.h"
#include "master/scheduler_internal.h"

namespace mr {

using scheduler_internal::Finished;

void Scheduler::AddWorker(const std::string& id, const std::string& address, uint32_t slots,
                          int64_t now_ms) {
  Effects fx;
  WorkerRegistration reg;
  reg.id = id;
  reg.incarnation = 1;
  reg.address = address;
  reg.slots = slots;
  AddWorker(reg, now_ms, &fx);
}

Result<std::string> Scheduler::NameWorker(const std::string& identity, const std::string& requested,
                                          const std::string& shuffle_address, const std::string& known) {
  return workers_.NameFor(identity, requested, shuffle_address, known);
}

std::vector<uint64_t> Scheduler::AddWorker(const WorkerRegistration& reg, int64_t now_ms, Effects* fx,
                                           const std::string& identity) {
  if (const Worker* old = workers_.Find(reg.id); old != nullptr && old->incarnation != reg.incarnation) {
    // A new process on the same data dir: whatever the old one was running is lost.
    RemoveWorker(reg.id, "it restarted", now_ms, fx, Loss::kDisconnected);
  }
  bool returning = false;
  Worker& w = workers_.Add(reg, identity.empty() ? reg.id : identity, now_ms, &returning);
  dirty_ = true;
  if (!returning) totals_.workers_registered++;
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
  // Costs O(held outputs + the job's orphaned outputs), not a look at every task.
  for (uint64_t job_id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
    Job& job = jobs_.at(job_id);
    // A map-only job's maps keep nothing on workers: their output is committed to OUT.
    if (job.status.state() != proto::JOB_RUNNING || job.evidence.Excluded(w.id) || job.map_only()) continue;
    // Its orphaned outputs that it came back without run again.
    std::vector<uint32_t> orphans(job.tasks.Orphans().begin(), job.tasks.Orphans().end());
    for (uint32_t i : orphans) {
      Task& t = job.tasks.maps()[i];
      if (Name(t.done_worker) == w.id && !have.contains({job_id, t.index, t.done_attempt})) {
        RevertMap(job, t, fmt::format("worker {} came back without its output", w.id), fx);
      }
    }
    for (auto lo = have.lower_bound({job_id, 0, 0}); lo != have.end() && std::get<0>(*lo) == job_id; ++lo) {
      auto [unused, index, attempt] = *lo;
      if (index >= job.tasks.maps().size()) continue;
      Task& t = job.tasks.maps()[index];
      if (t.state == TaskState::kDone) {
        if (attempt == t.done_attempt && (Name(t.done_worker) == w.id || t.done_worker == 0 || t.orphaned_ms != 0)) {
          // Its output is where it was (or has moved with the worker's new address).
          if (t.orphaned_ms != 0) {
            SetOrphaned(job, t, 0);
            spdlog::info("job {} map {}: worker {} is back with its output", job_id, t.index, w.id);
          }
          SetOutput(job, t, w.id, w.address, t.done_attempt);
          fx->changed_tasks.push_back(Record(job, t));
        }
        continue;
      }
      // Not done (lost, or re-running): any complete output of the map will do (the lowest attempt).
      std::vector<std::pair<uint32_t, std::string>> running;
      for (auto& [a, run] : t.running) running.emplace_back(a, run.worker);
      for (auto& [a, on] : running) {
        EndAttempt(job, t, a, AttemptOutcome::kSuperseded, now_ms,
                   fmt::format("worker {} came back with the output of attempt {}", w.id, attempt));
        StopRunning(job, t, a);
        fx->cancels.push_back({on, {job_id, t.kind, t.index, a}});
      }
      t.rerun_pending = false;
      t.fetch_failures = 0;
      SetOutput(job, t, w.id, w.address, attempt);
      if (t.extra) {
        if (t.stashed_attempt == attempt) t.counters = std::move(t.extra->stashed_counters);
        t.extra->stashed_counters.clear();
      }
      SetState(job, t, TaskState::kDone);
      if (Task::Attempt* h = t.History(attempt)) {
        h->outcome = AttemptOutcome::kSucceeded;
        h->error.reset();
      }
      spdlog::info("job {} map {}: re-adopted the output of attempt {} from worker {}", job_id, t.index, attempt,
                   w.id);
      fx->changed_tasks.push_back(Record(job, t));
    }
  }
}

void Scheduler::Heartbeat(const std::string& id, int64_t now_ms) {
  // The liveness index is where the time lives: a heartbeat needs no lookup in the worker table.
  workers_.Heartbeat(id, now_ms);
}

void Scheduler::RevertMap(Job& job, Task& t, const std::string& why, Effects* fx) {
  SetState(job, t, TaskState::kIdle);
  t.stashed_attempt = t.done_attempt;
  t.MutableExtra().stashed_counters = std::move(t.counters);
  t.counters.clear();
  t.fetch_failures = 0;
  ClearOutput(job, t);
  t.rerun_pending = true;
  if (t.orphaned_ms != 0) SetOrphaned(job, t, 0);
  // The successful attempt's work is lost: the timeline shows it so.
  if (Task::Attempt* h = t.History(t.done_attempt); h && h->outcome == AttemptOutcome::kSucceeded) {
    h->outcome = AttemptOutcome::kLost;
    h->SetError("output lost: " + why);
  }
  spdlog::info("job {} map {}: {}; it will run again", job.status.job_id(), t.index, why);
  fx->changed_tasks.push_back(Record(job, t));
}

void Scheduler::LoseAttempt(Job& job, Task& t, uint32_t attempt, const std::string& why, int64_t now_ms) {
  auto it = t.running.find(attempt);
  if (it == t.running.end()) return;
  spdlog::info("job {} {} {} attempt {} on worker {} is lost: {}", job.status.job_id(), TaskKindName(t.kind), t.index,
               attempt, it->second.worker, why);
  EndAttempt(job, t, attempt, AttemptOutcome::kLost, now_ms, why);
  StopRunning(job, t, attempt);
  IdleIfStopped(job, t);
}

bool Scheduler::ChargeTask(Job& job, Task& t, int64_t now_ms, Effects* fx) {
  std::string error;
  if (t.failures >= kMaxAttempts) {
    error = fmt::format("{} task {} failed {} times; last error: {}", TaskKindName(t.kind), t.index, t.failures,
                        t.LastError());
  } else if (t.lost_attempts >= kMaxLostAttempts) {
    error = fmt::format("{} task {} was lost with its worker {} times in a row, each time alone on it (a task "
                        "that kills or cuts off every worker it runs on); last: {}",
                        TaskKindName(t.kind), t.index, t.lost_attempts, t.LastError());
  } else {
    return false;
  }
  FinishJob(job, proto::JOB_FAILED, error, now_ms, fx);
  return true;
}

void Scheduler::RemoveWorker(const std::string& id, const std::string& reason, int64_t now_ms, Effects* fx,
                             Loss loss) {
  if (!workers_.Contains(id)) return;
  // What ran and what lay on it: from the worker table's indexes, not a scan of the tasks.
  const std::vector<AttemptRef> attempts = workers_.RunningOn(id);
  const std::vector<OutputRef> outputs = workers_.OutputsOn(id);
  workers_.Remove(id, reason, now_ms);
  totals_.workers_lost++;
  dirty_ = true;
  spdlog::warn("worker {} is gone ({}); its running attempts are rescheduled", id, reason);
  std::string why = fmt::format("worker {} lost: {}", id, reason);
  // An attempt that was alone on the worker when it died is charged for it (it may be what kills
  // or cuts off its workers); attempts that shared the worker are not.
  std::map<uint64_t, Task*> exhausted;  // per job, the first task out of chances
  for (const AttemptRef& a : attempts) {
    auto [job, t] = Resolve(a);
    if (t == nullptr || job->status.state() != proto::JOB_RUNNING) continue;
    LoseAttempt(*job, *t, a.attempt, why, now_ms);
    if (attempts.size() == 1) t->lost_attempts++;
    t->MutableExtra().last_error = why;
    if (t->lost_attempts >= kMaxLostAttempts) exhausted.try_emplace(a.job, t);
  }
  // A finished map's output lives on the worker's disk. A dead worker's runs again now; a silent
  // worker's is orphaned: reducers may still reach it (only the master may have lost it), and the
  // worker may come back with it. It runs again when a fetch fails or the recovery grace ends (Tick).
  for (const OutputRef& o : outputs) {
    auto [job, t] = Resolve({o.job, proto::TASK_MAP, o.map, 0});
    if (t == nullptr || job->status.state() != proto::JOB_RUNNING || job->tasks.AllDone(1)) continue;
    if (t->state != TaskState::kDone || Name(t->done_worker) != id) continue;
    if (loss == Loss::kDisconnected) {
      RevertMap(*job, *t, fmt::format("its output was lost with worker {}", id), fx);
    } else if (t->orphaned_ms == 0) {
      SetOrphaned(*job, *t, now_ms);
    }
  }
  for (auto& [job_id, t] : exhausted) {
    Job& job = jobs_.at(job_id);
    if (!Finished(job.status)) ChargeTask(job, *t, now_ms, fx);
  }
  Schedule(now_ms, fx);
}

std::pair<Scheduler::Job*, Task*> Scheduler::Resolve(const AttemptRef& a) {
  auto it = jobs_.find(a.job);
  if (it == jobs_.end() || Finished(it->second.status)) return {nullptr, nullptr};
  return {&it->second, it->second.tasks.Find(a.kind, a.index)};
}

void Scheduler::Tick(int64_t now_ms, Effects* fx) {
  PruneHistory(now_ms, fx);
  dirty_ = true;  // a safety net: one full pass per tick whatever the events said
  if (!workers_.empty()) {
    for (uint64_t job_id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
      Job& job = jobs_.at(job_id);
      if (job.tasks.Orphans().empty() || job.status.state() != proto::JOB_RUNNING) continue;
      std::vector<uint32_t> orphans(job.tasks.Orphans().begin(), job.tasks.Orphans().end());
      for (uint32_t i : orphans) {
        Task& t = job.tasks.maps()[i];
        int64_t since = std::max(t.orphaned_ms, workers_.live_since_ms());
        if (now_ms - since < options_.recovery_grace_ms) continue;
        RevertMap(job, t,
                  fmt::format("its worker {} did not come back within {} ms",
                              t.done_worker == 0 ? "(unknown since a master restart)" : Name(t.done_worker),
                              options_.recovery_grace_ms),
                  fx);
      }
    }
  }
  Preempt(now_ms, fx);
  Schedule(now_ms, fx);
}

std::vector<std::string> Scheduler::SilentWorkers(int64_t now_ms, int64_t timeout_ms) const {
  // now - last > timeout, i.e. last < now - timeout: the oldest few of the liveness index.
  return workers_.Silent(now_ms, timeout_ms);
}

int64_t Scheduler::OldestHeartbeatMs() const { return workers_.OldestHeartbeatMs(); }

}  // namespace mr
