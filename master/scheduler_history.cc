// Scheduler: the record of attempts kept for observability (DESIGN §7): each task's attempt
// history, the job's failed attempts, the task and worker views the API shows. Nothing here
// influences a scheduling decision.
#include "master/scheduler.h"

#include "common/defaults.h"


#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/log.h"
#include "master/scheduler_internal.h"

namespace mr {

using scheduler_internal::Finished;
using scheduler_internal::TaskStateText;

void Scheduler::EndAttempt(Job& job, Task& task, uint32_t attempt, AttemptOutcome outcome, int64_t now_ms,
                           const std::string& error) {
  std::string worker;
  if (auto run = task.running.find(attempt); run != task.running.end()) worker = run->second.worker;
  if (Task::Attempt* h = task.History(attempt)) {
    h->end_ms = now_ms;
    h->outcome = outcome;
    h->SetError(error);
    if (worker.empty()) worker = Name(h->worker);
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

proto::AttemptRecord Scheduler::AttemptView(const Task::Attempt& a) const {
  proto::AttemptRecord r;
  r.set_attempt(a.attempt);
  r.set_worker(Name(a.worker));
  r.set_start_ms(a.start_ms);
  r.set_end_ms(a.end_ms);
  r.set_outcome(AttemptOutcomeName(a.outcome));
  r.set_backup(a.backup);
  if (a.error) r.set_error(*a.error);
  r.set_records_in(a.records_in);
  r.set_records_out(a.records_out);
  r.set_bytes_in(a.bytes_in);
  r.set_bytes_out(a.bytes_out);
  return r;
}

proto::TaskHistory Scheduler::TaskView(const Job& job, const Task& t, int64_t now_ms) const {
  proto::TaskHistory v;
  v.set_kind(t.kind);
  v.set_index(t.index);
  bool done = t.state == TaskState::kDone;
  v.set_state(TaskStateText(done, t.state == TaskState::kRunning));
  // Running with no attempt running: its commit is under way, or its job ended.
  const bool committing = job.Writes(t) && job.committing.contains(t.index);
  if (t.state == TaskState::kRunning && t.running.empty() && !committing) v.set_state("killed");
  v.set_attempts(t.attempts);
  v.set_failures(t.failures);
  v.set_backups(t.backups);
  v.set_last_error(t.LastError());
  if (t.kind == proto::TASK_MAP) *v.mutable_split() = job.splits.Get(t.index);
  v.mutable_history()->Reserve(static_cast<int>(t.history.size()));
  for (const Task::Attempt& a : t.history) *v.add_history() = AttemptView(a);
  if (done) {
    v.set_worker(Name(t.done_worker));
    v.set_duration_ms(t.duration_ms);
    for (auto it = t.history.rbegin(); it != t.history.rend(); ++it) {
      if (it->outcome == AttemptOutcome::kSucceeded) {
        v.set_worker(Name(it->worker));
        v.set_start_ms(it->start_ms);
        break;
      }
    }
  } else if (!t.running.empty()) {
    const auto& [attempt, run] = *t.running.rbegin();
    v.set_worker(run.worker);
    v.set_start_ms(run.start_ms);
    v.set_duration_ms(now_ms - run.start_ms);
  } else if (!t.history.empty()) {
    const Task::Attempt& last = t.history.back();
    v.set_worker(Name(last.worker));
    v.set_start_ms(last.start_ms);
    v.set_duration_ms((last.end_ms ? last.end_ms : now_ms) - last.start_ms);
  }
  return v;
}

Result<std::vector<proto::TaskHistory>> Scheduler::Tasks(uint64_t job_id, int64_t now_ms) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return Status::NotFound(fmt::format("no job {}", job_id));
  const Job& job = it->second;
  // A finished job's tasks as they were at its end; after a restart, as journaled.
  if (Finished(job.status) && !job.tasks.built()) return job.final_tasks;
  if (Finished(job.status)) now_ms = job.status.end_time_ms();
  std::vector<proto::TaskHistory> out;
  out.reserve(job.tasks.maps().size() + job.tasks.reduces().size());
  for (int k = 0; k < 2; k++) {
    for (const Task& t : job.tasks.Phase(k)) out.push_back(TaskView(job, t, now_ms));
  }
  return out;
}

std::vector<Scheduler::TaskCount> Scheduler::TaskCounts(std::optional<uint64_t> job_id) const {
  std::vector<TaskCount> out;
  for (proto::TaskKind kind : {proto::TASK_MAP, proto::TASK_REDUCE}) {
    uint64_t n[3] = {0, 0, 0};
    int k = kind == proto::TASK_MAP ? 0 : 1;
    for (uint64_t id : active_jobs_) {
      if (job_id && id != *job_id) continue;
      const Job& job = jobs_.at(id);
      if (!job.tasks.built()) continue;  // queued
      for (int st = 0; st < 3; st++) n[st] += job.tasks.Count(k, static_cast<TaskState>(st));
    }
    out.push_back({kind, "idle", n[static_cast<int>(TaskState::kIdle)]});
    out.push_back({kind, "running", n[static_cast<int>(TaskState::kRunning)]});
    out.push_back({kind, "done", n[static_cast<int>(TaskState::kDone)]});
  }
  return out;
}

int64_t Scheduler::WorkerRegisteredMs(const std::string& id) const {
  const Worker* w = workers_.Find(id);
  return w == nullptr ? 0 : w->registered_ms;
}

std::vector<proto::WorkerInfo> Scheduler::Workers(int64_t now_ms, size_t offset, size_t limit, bool all) const {
  std::vector<proto::WorkerInfo> out;
  if (offset >= workers_.size()) return out;
  out.reserve(std::min(limit, workers_.size() - offset));
  // std::map has no random access: a page costs O(offset + limit).
  auto it = std::next(workers_.all().begin(), static_cast<std::ptrdiff_t>(offset));
  for (; it != workers_.all().end() && out.size() < limit; ++it) {
    const auto& [id, w] = *it;
    proto::WorkerInfo i;
    i.set_worker_id(id);
    i.set_shuffle_address(w.address);
    i.set_slots(w.slots);
    i.set_running(w.running);
    i.set_heartbeat_age_ms(now_ms - workers_.LastHeartbeatMs(id));
    i.set_tasks_succeeded(w.succeeded);
    i.set_tasks_failed(w.failed);
    i.set_host(w.host);
    i.set_pid(w.pid);
    i.set_registered_ms(w.registered_ms);
    out.push_back(i);
  }
  if (!all) return out;
  for (auto it = workers_.lost().rbegin(); it != workers_.lost().rend(); ++it) {
    proto::WorkerInfo i;
    i.set_worker_id(it->id);
    i.set_shuffle_address(it->address);
    i.set_host(it->host);
    i.set_pid(it->pid);
    i.set_registered_ms(it->registered_ms);
    i.set_tasks_succeeded(it->tasks_succeeded);
    i.set_tasks_failed(it->tasks_failed);
    i.set_lost(true);
    i.set_lost_reason(it->reason);
    i.set_lost_ms(it->lost_ms);
    out.push_back(i);
  }
  return out;
}

void Scheduler::RecordAttemptCounters(Task& task, const proto::TaskReport& r) {
  Task::Attempt* h = task.History(r.attempt());
  if (h == nullptr) return;
  auto get = [&](const char* name) -> int64_t {
    auto it = r.counters().find(name);
    return it == r.counters().end() ? 0 : it->second;
  };
  if (task.kind == proto::TASK_MAP) {
    h->records_in = get(counter::kMapInputRecords);
    h->bytes_in = get(counter::kMapInputBytes);
    h->records_out = get(counter::kMapOutputRecords);
    h->bytes_out = get(counter::kSpillBytes);
  } else {
    h->records_in = get(counter::kReduceInputRecords);
    h->bytes_in = get(counter::kShuffleBytes);
    h->records_out = get(counter::kReduceOutputRecords);
    h->bytes_out = get(counter::kReduceOutputBytes);
  }
}

void Scheduler::PruneHistory(int64_t now_ms, Effects* fx) {
  std::vector<std::pair<int64_t, uint64_t>> finished;  // (end, id)
  for (auto& [id, job] : jobs_) {
    if (Finished(job.status)) finished.emplace_back(job.status.end_time_ms(), id);
  }
  bool too_old = options_.history_age_ms > 0 &&
                 std::any_of(finished.begin(), finished.end(),
                             [&](const auto& f) { return now_ms - f.first > options_.history_age_ms; });
  if (finished.size() <= options_.history_jobs && !too_old) return;
  std::sort(finished.begin(), finished.end());
  size_t excess = finished.size() > options_.history_jobs ? finished.size() - options_.history_jobs : 0;
  for (size_t i = 0; i < finished.size(); i++) {
    auto [end_ms, id] = finished[i];
    bool old = options_.history_age_ms > 0 && now_ms - end_ms > options_.history_age_ms;
    if (i >= excess && !old) continue;
    spdlog::info("job {} is forgotten ({})", id, old ? "past --history-age" : "beyond --history-jobs");
    jobs_.erase(id);
    fx->forgotten_jobs.push_back(id);
  }
}

void Scheduler::RestoreHistory(const proto::JobHistory& history) {
  auto it = jobs_.find(history.job_id());
  if (it == jobs_.end() || !Finished(it->second.status)) return;
  it->second.final_tasks.assign(history.tasks().begin(), history.tasks().end());
}

}  // namespace mr
