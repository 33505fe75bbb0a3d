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
  total_slots_ -= w.slots;
  w.slots = std::max<uint32_t>(1, reg.slots);
  total_slots_ += w.slots;
  SetRunning(w, w.running);
  dirty_ = true;
  liveness_.Touch(w.id, now_ms);
  w.incarnation = reg.incarnation;
  w.host = reg.host;
  w.pid = reg.pid;
  w.allow_user_code = reg.allow_user_code;
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
  // Costs O(held outputs + the job's orphaned outputs), not a look at every task.
  for (uint64_t job_id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
    Job& job = jobs_.at(job_id);
    if (job.status.state() != proto::JOB_RUNNING || job.excluded.contains(w.id)) continue;
    // Its orphaned outputs that it came back without run again.
    std::vector<uint32_t> orphans(job.orphans.begin(), job.orphans.end());
    for (uint32_t i : orphans) {
      Task& t = job.maps[i];
      if (Name(t.done_worker) == w.id && !have.contains({job_id, t.index, t.done_attempt})) {
        RevertMap(job, t, fmt::format("worker {} came back without its output", w.id), fx);
      }
    }
    for (auto lo = have.lower_bound({job_id, 0, 0}); lo != have.end() && std::get<0>(*lo) == job_id; ++lo) {
      auto [unused, index, attempt] = *lo;
      if (index >= job.maps.size()) continue;
      Task& t = job.maps[index];
      if (t.state == TaskState::kDone) {
        if (attempt == t.done_attempt && (Name(t.done_worker) == w.id || t.done_worker == 0 || t.orphaned_ms != 0)) {
          // Its output is where it was (or has moved with the worker's new address).
          if (t.orphaned_ms != 0) {
            SetOrphaned(job, t, 0);
            spdlog::info("job {} map {}: worker {} is back with its output", job_id, t.index, w.id);
          }
          t.done_worker = names_.Intern(w.id);
          t.done_address = names_.Intern(w.address);
          fx->changed_tasks.push_back(Record(job, t));
        }
        continue;
      }
      // Not done (lost, or re-running): any complete output of the map will do (the lowest attempt).
      for (auto& [a, run] : t.running) {
        ReleaseSlot(run.worker);
        EndAttempt(job, t, a, AttemptOutcome::kSuperseded, now_ms,
                   fmt::format("worker {} came back with the output of attempt {}", w.id, attempt));
      }
      t.running.clear();
      Reindex(job, t);
      t.rerun_pending = false;
      t.fetch_failures = 0;
      t.done_worker = names_.Intern(w.id);
      t.done_address = names_.Intern(w.address);
      t.done_attempt = attempt;
      if (t.extra) {
        if (t.stashed_attempt == attempt) t.counters = std::move(t.extra->stashed_counters);
        t.extra->stashed_counters.clear();
      }
      SetState(job, t, TaskState::kDone);
      if (Attempt* h = History(t, attempt)) {
        h->outcome = AttemptOutcome::kSucceeded;
        h->error.reset();
      }
      job.maps_done++;
      spdlog::info("job {} map {}: re-adopted the output of attempt {} from worker {}", job_id, t.index, attempt,
                   w.id);
      fx->changed_tasks.push_back(Record(job, t));
    }
  }
}

void Scheduler::SetRunning(Worker& w, uint32_t running) {
  busy_slots_ = busy_slots_ - w.running + running;
  w.running = running;
  free_slots_.Set(w.id, w.slots > running ? w.slots - running : 0);
}

void Scheduler::ReleaseSlot(const std::string& worker) {
  auto w = workers_.find(worker);
  if (w == workers_.end() || w->second.running == 0) return;
  SetRunning(w->second, w->second.running - 1);
  dirty_ = true;
}

void Scheduler::Heartbeat(const std::string& id, int64_t now_ms) {
  // The liveness index is where the time lives: a heartbeat needs no lookup in the worker table.
  liveness_.Refresh(id, now_ms);
}

void Scheduler::RevertMap(Job& job, Task& t, const std::string& why, Effects* fx) {
  SetState(job, t, TaskState::kIdle);
  t.stashed_attempt = t.done_attempt;
  t.Extra().stashed_counters = std::move(t.counters);
  t.counters.clear();
  t.fetch_failures = 0;
  t.done_worker = 0;
  t.done_address = 0;
  t.rerun_pending = true;
  if (t.orphaned_ms != 0) SetOrphaned(job, t, 0);
  job.maps_done--;
  // The successful attempt's work is lost: the timeline shows it so.
  if (Attempt* h = History(t, t.done_attempt); h && h->outcome == AttemptOutcome::kSucceeded) {
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
  ReleaseSlot(it->second.worker);
  EndAttempt(job, t, attempt, AttemptOutcome::kLost, now_ms, why);
  t.running.erase(it);
  Reindex(job, t);
  if (t.state == TaskState::kRunning && t.running.empty()) SetState(job, t, TaskState::kIdle);
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
  auto gone = workers_.find(id);
  if (gone == workers_.end()) return;
  const Worker& g = gone->second;
  lost_workers_.push_back({id, g.address, g.host, g.pid, g.registered_ms, reason, now_ms, g.succeeded, g.failed});
  if (lost_workers_.size() > kLostWorkersKept) lost_workers_.pop_front();
  totals_.workers_lost++;
  SetRunning(gone->second, 0);
  total_slots_ -= gone->second.slots;
  free_slots_.Erase(id);
  liveness_.Erase(id);
  workers_.erase(gone);
  dirty_ = true;
  spdlog::warn("worker {} is gone ({}); its running attempts are rescheduled", id, reason);
  std::string why = fmt::format("worker {} lost: {}", id, reason);
  // An attempt that was alone on the worker when it died is charged for it (it may be what kills
  // or cuts off its workers); attempts that shared the worker are not.
  // A scan of the running jobs' tasks: a worker's loss is rare next to its heartbeats and reports.
  size_t attempts_on_worker = 0;
  for (uint64_t job_id : active_jobs_) {
    Job& job = jobs_.at(job_id);
    if (job.status.state() != proto::JOB_RUNNING) continue;
    for (auto* tasks : {&job.maps, &job.reduces}) {
      for (Task& t : *tasks) {
        for (auto& [attempt, run] : t.running) attempts_on_worker += run.worker == id;
      }
    }
  }
  for (uint64_t job_id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
    Job& job = jobs_.at(job_id);
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
          t.Extra().last_error = why;
          if (t.lost_attempts >= kMaxLostAttempts && !exhausted) exhausted = &t;
        }
        // A finished map's output lives on the worker's disk. A dead worker's runs again now; a
        // silent worker's is orphaned: reducers may still reach it (only the master may have
        // lost it), and the worker may come back with it. It runs again when a fetch fails or the
        // recovery grace ends (Tick).
        if (t.kind != proto::TASK_MAP || t.state != TaskState::kDone || Name(t.done_worker) != id || !reduces_left) {
          continue;
        }
        if (loss == Loss::kDisconnected) {
          RevertMap(job, t, fmt::format("its output was lost with worker {}", id), fx);
        } else if (t.orphaned_ms == 0) {
          SetOrphaned(job, t, now_ms);
        }
      }
    }
    if (exhausted) ChargeTask(job, *exhausted, now_ms, fx);
  }
  Schedule(now_ms, fx);
}

void Scheduler::Tick(int64_t now_ms, Effects* fx) {
  PruneHistory(now_ms, fx);
  dirty_ = true;  // a safety net: one full pass per tick whatever the events said
  if (!workers_.empty()) {
    for (uint64_t job_id : std::vector<uint64_t>(active_jobs_.begin(), active_jobs_.end())) {
      Job& job = jobs_.at(job_id);
      if (job.orphans.empty() || job.status.state() != proto::JOB_RUNNING) continue;
      std::vector<uint32_t> orphans(job.orphans.begin(), job.orphans.end());
      for (uint32_t i : orphans) {
        Task& t = job.maps[i];
        int64_t since = std::max(t.orphaned_ms, live_since_ms_);
        if (now_ms - since < options_.recovery_grace_ms) continue;
        RevertMap(job, t,
                  fmt::format("its worker {} did not come back within {} ms",
                              t.done_worker == 0 ? "(unknown since a master restart)" : Name(t.done_worker),
                              options_.recovery_grace_ms),
                  fx);
      }
    }
  }
  Schedule(now_ms, fx);
}

std::vector<std::string> Scheduler::SilentWorkers(int64_t now_ms, int64_t timeout_ms) const {
  // now - last > timeout, i.e. last < now - timeout: the oldest few of the liveness index.
  return liveness_.Before(now_ms - timeout_ms);
}

int64_t Scheduler::OldestHeartbeatMs() const { return liveness_.empty() ? 0 : liveness_.OldestMs(); }

}  // namespace mr
