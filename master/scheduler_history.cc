// Scheduler: the record of attempts kept for observability (DESIGN §7): each task's attempt
// history, the job's failed attempts, the task and worker views the API shows. Nothing here
// influences a scheduling decision.
#include "master/scheduler.h"


#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/log.h"
#include "master/scheduler_internal.h"

namespace mr {

using scheduler_internal::Finished;
using scheduler_internal::TaskStateText;

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
    int k = kind == proto::TASK_MAP ? 0 : 1;
    for (uint64_t id : active_jobs_) {
      if (job_id && id != *job_id) continue;
      const Job& job = jobs_.at(id);
      if (job.maps.empty() && job.reduces.empty()) continue;  // queued
      for (int st = 0; st < 3; st++) n[st] += job.state_count[k][st];
    }
    out.push_back({kind, "idle", n[static_cast<int>(TaskState::kIdle)]});
    out.push_back({kind, "running", n[static_cast<int>(TaskState::kRunning)]});
    out.push_back({kind, "done", n[static_cast<int>(TaskState::kDone)]});
  }
  return out;
}

int64_t Scheduler::OldestHeartbeatMs() const {
  int64_t oldest = INT64_MAX;
  for (const auto& [id, w] : workers_) oldest = std::min(oldest, w.last_heartbeat_ms);
  return workers_.empty() ? 0 : oldest;
}

int64_t Scheduler::WorkerRegisteredMs(const std::string& id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? 0 : it->second.registered_ms;
}

std::vector<proto::WorkerInfo> Scheduler::Workers(int64_t now_ms) const {
  return Workers(now_ms, 0, workers_.size());
}

std::vector<proto::WorkerInfo> Scheduler::Workers(int64_t now_ms, size_t offset, size_t limit) const {
  std::vector<proto::WorkerInfo> out;
  if (offset >= workers_.size()) return out;
  out.reserve(std::min(limit, workers_.size() - offset));
  // std::map has no random access: a page costs O(offset + limit).
  auto it = std::next(workers_.begin(), static_cast<std::ptrdiff_t>(offset));
  for (; it != workers_.end() && out.size() < limit; ++it) {
    const auto& [id, w] = *it;
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
