// Scheduler: what a worker's report of an attempt does: success and commit, failure and its
// charge, fetch failures as evidence about nodes and the exclusion they lead to.
#include "master/scheduler.h"


#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>

#include "common/log.h"
#include "common/units.h"
#include "master/scheduler_internal.h"

namespace mr {

using scheduler_internal::Finished;

bool Scheduler::AcceptLateReport(Job& job, Task& task, const std::string& worker_id, const proto::TaskReport& r) {
  // An attempt that was lost with its worker (cut off from the master, not dead) and finished
  // anyway: its result is as good as any other attempt's while the task is not done.
  if (!r.ok() || task.state == TaskState::kDone || job.evidence.Excluded(worker_id) ||
      !workers_.Contains(worker_id)) {
    return false;
  }
  Task::Attempt* h = task.History(r.attempt());
  return h != nullptr && Name(h->worker) == worker_id && h->outcome == AttemptOutcome::kLost;
}

void Scheduler::FailAttemptsOn(const std::string& worker_id, const std::string& error, int64_t now_ms,
                               Effects* fx) {
  std::vector<proto::TaskReport> failed;
  for (const AttemptRef& a : workers_.RunningOn(worker_id)) {
    proto::TaskReport& r = failed.emplace_back();
    r.set_job_id(a.job);
    r.set_kind(a.kind);
    r.set_index(a.index);
    r.set_attempt(a.attempt);
    r.set_error(error);
  }
  for (const proto::TaskReport& r : failed) OnReport(worker_id, r, now_ms, fx);
}

void Scheduler::OnReport(const std::string& worker_id, const proto::TaskReport& r, int64_t now_ms,
                         Effects* fx) {
  auto jit = jobs_.find(r.job_id());
  if (jit == jobs_.end() || Finished(jit->second.status)) return;
  Job& job = jit->second;
  Task* task = job.tasks.Find(r.kind(), r.index());
  if (task == nullptr) return;
  auto att = task->running.find(r.attempt());
  int64_t started = now_ms;
  if (att != task->running.end() && att->second.worker == worker_id) {
    started = att->second.start_ms;
    StopRunning(job, *task, r.attempt());
    task->lost_attempts = 0;  // it ended without taking its worker down
  } else if (AcceptLateReport(job, *task, worker_id, r)) {
    started = task->History(r.attempt())->start_ms;
    spdlog::info("job {} {} {} attempt {}: accepting the late report of worker {}, which was cut off but kept "
                 "working", r.job_id(), TaskKindName(r.kind()), r.index(), r.attempt(), worker_id);
  } else {
    if (r.ok() && task->kind == proto::TASK_MAP && task->state == TaskState::kDone &&
        Name(task->done_worker) == worker_id && task->done_attempt == r.attempt() && task->counters.empty()) {
      // The report of an output that was re-adopted before its report arrived: only its counters.
      SetCounters(&task->counters, r.counters());
      for (auto& [k, v] : r.counters()) totals_.counters[k] += v;
      job.tasks.AddCounters(*task, +1);
      fx->changed_tasks.push_back(Record(job, *task));
      return;
    }
    spdlog::info("job {} {} {} attempt {}: ignoring a stale report from {}", r.job_id(), TaskKindName(r.kind()),
                 r.index(), r.attempt(), worker_id);
    return;
  }
  RecordAttemptCounters(*task, r);
  if (r.ok() && task->state != TaskState::kDone && job.Writes(*task)) {
    if (auto pending = job.committing.find(task->index); pending != job.committing.end()) {
      EndAttempt(job, *task, r.attempt(), AttemptOutcome::kSuperseded, now_ms,
                 fmt::format("attempt {} finished first and is being committed", pending->second.report.attempt()));
      Schedule(now_ms, fx);
      return;
    }
    // Done once its file is in place: the master commits it (at the path the layout gives, whatever
    // the report says) and tells OnCommitted.
    job.committing[task->index] = PendingCommit{worker_id, r, started};
    fx->commits.push_back({r.job_id(), job.status.spec().output(), r.index(), r.attempt(), {}, job.part_kind()});
    Schedule(now_ms, fx);
    return;
  }
  // A task's error is one line whatever its code wrote (a streaming command's stderr, say).
  Conclude(job, *task, worker_id, r, started, r.ok() ? Status::OK() : Status::Aborted(FormatOneLine(r.error())),
           now_ms, fx);
}

void Scheduler::OnCommitted(const CommitRequest& c, const Status& result, int64_t now_ms, Effects* fx) {
  auto jit = jobs_.find(c.job_id);
  if (jit == jobs_.end() || Finished(jit->second.status)) return;
  Job& job = jit->second;
  if (!c.partition) {
    if (!job.committing_job) return;
    job.committing_job = false;
    if (result.ok()) FinishJob(job, proto::JOB_SUCCEEDED, "", now_ms, fx);
    else FinishJob(job, proto::JOB_FAILED, result.message(), now_ms, fx);
    Schedule(now_ms, fx);
    return;
  }
  auto it = job.committing.find(*c.partition);
  if (it == job.committing.end() || it->second.report.attempt() != c.attempt) return;
  PendingCommit pending = std::move(it->second);
  job.committing.erase(it);
  if (*c.partition >= job.writers().size()) return;
  Task& task = job.writers()[*c.partition];
  Conclude(job, task, pending.worker, pending.report, pending.started_ms, result, now_ms, fx);
}

void Scheduler::IdleIfStopped(Job& job, Task& t) {
  if (t.state != TaskState::kRunning || !t.running.empty()) return;
  if (job.Writes(t) && job.committing.contains(t.index)) return;
  SetState(job, t, TaskState::kIdle);
}

void Scheduler::Conclude(Job& job, Task& task, const std::string& worker_id, const proto::TaskReport& r,
                         int64_t started, Status failure, int64_t now_ms, Effects* fx) {
  Worker* w = workers_.Find(worker_id);
  bool succeeded = false;
  if (failure.ok() && task.state != TaskState::kDone) {
    succeeded = true;
    task.duration_ms = now_ms - started;
    SetCounters(&task.counters, r.counters());
    SetState(job, task, TaskState::kDone);
    for (auto& [k, v] : r.counters()) totals_.counters[k] += v;
    if (w != nullptr) w->succeeded++;
    spdlog::info("job {} {} {} attempt {} on worker {} succeeded in {} ms", r.job_id(), TaskKindName(r.kind()),
                 r.index(), r.attempt(), worker_id, task.duration_ms);
    EndAttempt(job, task, r.attempt(), AttemptOutcome::kSucceeded, now_ms);
    // Other attempts of the task (backups) lost the race: forget them.
    std::vector<std::pair<uint32_t, std::string>> others;
    for (auto& [attempt, run] : task.running) others.emplace_back(attempt, run.worker);
    for (auto& [attempt, worker] : others) {
      spdlog::info("job {} {} {} attempt {} on worker {} is superseded by attempt {}", r.job_id(),
                   TaskKindName(r.kind()), r.index(), attempt, worker, r.attempt());
      EndAttempt(job, task, attempt, AttemptOutcome::kSuperseded, now_ms,
                 fmt::format("attempt {} finished first", r.attempt()));
      StopRunning(job, task, attempt);
      fx->cancels.push_back({worker, {job.status.job_id(), task.kind, task.index, attempt}});
    }
    task.rerun_pending = false;
    if (task.extra) task.extra->stashed_counters.clear();
    if (task.kind == proto::TASK_MAP && !job.map_only()) {
      SetOutput(job, task, worker_id, w != nullptr ? w->address : "", r.attempt());
      task.fetch_failures = 0;
    }
    fx->changed_tasks.push_back(Record(job, task));
  }
  if (!failure.ok()) {
    EndAttempt(job, task, r.attempt(), AttemptOutcome::kFailed, now_ms, failure.message());
    if (w != nullptr) w->failed++;
    task.MutableExtra().last_error = failure.message();
    spdlog::warn("job {} {} {} attempt {} on worker {} failed: {}", r.job_id(), TaskKindName(r.kind()), r.index(),
                 r.attempt(), worker_id, failure.message());
    const bool fetch_failure = r.failed_maps_size() > 0 || r.failed_fetches_size() > 0;
    if (fetch_failure) {
      OnFetchFailure(job, task, worker_id, r, now_ms, fx);
      if (Finished(job.status)) {
        Schedule(now_ms, fx);
        return;
      }
    } else if (task.state != TaskState::kDone && SkipBadRecord(job, task, r, failure, now_ms, fx)) {
      if (Finished(job.status)) {
        Schedule(now_ms, fx);
        return;
      }
    } else if (task.state != TaskState::kDone) {
      task.failures++;
      job.attempts_failed++;
      job.evidence.AttemptFailed(worker_id);
      fx->changed_tasks.push_back(Record(job, task));
      if (ChargeTask(job, task, now_ms, fx)) {
        Schedule(now_ms, fx);
        return;
      }
    }
    IdleIfStopped(job, task);
    if (!fetch_failure || r.resource_exhausted()) {
      RetryElsewhere(job, task, worker_id, r.resource_exhausted(), now_ms, fx);
    }
  } else if (!succeeded) {
    EndAttempt(job, task, r.attempt(), AttemptOutcome::kSuperseded, now_ms, "the task was already done");
  }
  MaybeSucceed(job, now_ms, fx);
  Schedule(now_ms, fx);
}

bool Scheduler::SkipBadRecord(Job& job, Task& task, const proto::TaskReport& r, const Status& failure,
                              int64_t now_ms, Effects* fx) {
  const uint32_t allowed = job.status.spec().skip_bad_records();
  if (task.kind != proto::TASK_MAP || allowed == 0 || !r.has_bad_record()) return false;
  std::vector<proto::SkippedRecord>& skipped = job.skipped[task.index];
  for (const proto::SkippedRecord& s : skipped) {
    // Died on a record it should have skipped: a failure like any other.
    if (s.part() == r.bad_record().part() && s.offset() == r.bad_record().offset()) return false;
  }
  if (skipped.size() >= allowed) {
    std::vector<std::string> named;
    for (const proto::SkippedRecord& s : skipped) named.push_back(s.description());
    FinishJob(job, proto::JOB_FAILED,
              fmt::format("map {} has more bad records than --skip-bad-records {} allows: {}; skipped before it: {}",
                          task.index, allowed, failure.message(), fmt::join(named, "; ")),
              now_ms, fx);
    return true;
  }
  // Not charged to the task: the next attempt skips the record, and a task skips at most `allowed`
  // of them. (The attempt still counts as a failed one.)
  skipped.push_back(r.bad_record());
  job.attempts_failed++;
  fx->changed_tasks.push_back(Record(job, task));
  spdlog::warn("job {} map {}: its attempts skip {} from now on ({} of --skip-bad-records {})", job.status.job_id(),
               task.index, r.bad_record().description(), skipped.size(), allowed);
  return true;
}

void Scheduler::RetryElsewhere(Job& job, Task& t, const std::string& worker, bool exhausted, int64_t now_ms,
                               Effects* fx) {
  const int k = KindIndex(t.kind);
  if (t.state != TaskState::kIdle || !job.tasks.Pickable(t) || Finished(job.status)) return;
  // Another worker with a free slot has its own disk, descriptors and memory: the task runs there
  // now (a reduce only when reduces may start).
  const bool may_start = k == 0 || job.tasks.MayStartReduces();
  if (Worker* other = FreeWorker(job, worker); other != nullptr && may_start) {
    spdlog::info("job {} {} {}: failed on worker {}{}; retrying on worker {}", job.status.job_id(),
                 TaskKindName(t.kind), t.index, worker, exhausted ? ", which ran out of a resource" : "", other->id);
    Launch(job, t, *other, now_ms, fx);
    return;
  }
  if (!exhausted) return;  // idle: the next free slot takes it, this worker's included
  const int64_t delay = std::min(kMaxResourceRetryMs, kResourceRetryMs << std::min<uint32_t>(t.failures - 1, 10));
  spdlog::info("job {} {} {}: worker {} ran out of a resource; retrying in {} ms", job.status.job_id(),
               TaskKindName(t.kind), t.index, worker, delay);
  job.tasks.HoldBack(t);  // still idle, but not to be picked before the backoff
  held_retries_[{now_ms + delay, job.status.job_id(), k, t.index}] = worker;
}

void Scheduler::ReleaseRetries(int64_t now_ms, Effects* fx) {
  while (!held_retries_.empty() && std::get<0>(held_retries_.begin()->first) <= now_ms) {
    auto [key, failed_on] = *held_retries_.begin();
    held_retries_.erase(held_retries_.begin());
    auto [when, job_id, k, index] = key;
    auto jit = jobs_.find(job_id);
    if (jit == jobs_.end() || Finished(jit->second.status)) continue;
    Job& job = jit->second;
    std::vector<Task>& phase = job.tasks.Phase(k);
    if (index >= phase.size()) continue;
    Task& t = phase[index];
    if (t.state != TaskState::kIdle || job.tasks.Pickable(t)) continue;  // started or done meanwhile
    const bool may_start = k == 0 || job.tasks.MayStartReduces();
    if (Worker* other = FreeWorker(job, failed_on); other != nullptr && may_start) {
      Launch(job, t, *other, now_ms, fx);
    } else {
      job.tasks.Release(t);  // any worker now, the one it failed on included
      dirty_ = true;
    }
  }
}

void Scheduler::OnFetchFailure(Job& job, Task& reduce, const std::string& reducer, const proto::TaskReport& r,
                               int64_t now_ms, Effects* fx) {
  // Where the fetches failed: as reported, or (from an older worker) each failed map's location now.
  std::vector<proto::MapOutputLocation> locations(r.failed_fetches().begin(), r.failed_fetches().end());
  if (locations.empty()) {
    for (uint32_t m : r.failed_maps()) {
      Task* map = job.tasks.Find(proto::TASK_MAP, m);
      if (map == nullptr) continue;
      proto::MapOutputLocation loc;
      loc.set_map_index(m);
      loc.set_address(Name(map->done_address));
      loc.set_attempt(map->done_attempt);
      locations.push_back(loc);
    }
  }
  std::set<std::string> holders;
  bool against_live = false;  // a failure against a live holder, rather than news of a lost output
  for (const proto::MapOutputLocation& loc : locations) {
    Task* map = job.tasks.Find(proto::TASK_MAP, loc.map_index());
    // A failure against an output that has moved on (re-run, re-adopted elsewhere) says nothing.
    if (map == nullptr || map->state != TaskState::kDone || Name(map->done_address) != loc.address() ||
        map->done_attempt != loc.attempt()) {
      continue;
    }
    const std::string holder = Name(map->done_worker);
    if (holder.empty() || map->orphaned_ms != 0 || !workers_.Contains(holder)) {
      RevertMap(job, *map, "its output cannot be fetched and its worker is gone", fx);
      continue;
    }
    against_live = true;
    job.evidence.FetchFailed(holder, reducer);
    if (holder != reducer) holders.insert(holder);
    // Output that failed its checksum (DESIGN §3) is bad where it is stored: fetching it again
    // will not help.
    if (++map->fetch_failures >= kFetchFailuresToRerun || r.map_output_corrupt()) {
      if (++map->fetch_reruns > kMaxFetchReruns) {
        FinishJob(job, proto::JOB_FAILED,
                  fmt::format("the output of map task {} could not be fetched after it ran {} times; last error: {}",
                              map->index, map->fetch_reruns, FormatOneLine(r.error())),
                  now_ms, fx);
        return;
      }
      RevertMap(job, *map,
                r.map_output_corrupt() ? "its output failed its checksum" : "its output could not be fetched repeatedly",
                fx);
    }
  }
  // Evidence about nodes (Spark's exclusion on fetch failure; Hadoop's reducer health check).
  for (const std::string& h : holders) {
    if (auto why = job.evidence.CaseAgainstHolder(h)) {
      Exclude(job, h, *why, now_ms, fx);
      if (Finished(job.status)) return;
    }
  }
  auto live = [this](const std::string& id) { return workers_.Contains(id); };
  if (auto why = job.evidence.CaseAgainstReducer(reducer, live)) {
    Exclude(job, reducer, *why, now_ms, fx);
    if (Finished(job.status)) return;
  }
  // The reduce waits for the maps and is not charged, up to a bound: after that every attempt
  // that failed to fetch from a live worker counts as a failure, so a reduce that can never fetch
  // ends the job.
  if (against_live && ++reduce.fetch_failed_attempts > kMaxFetchFailedReduces) {
    reduce.failures++;
    job.attempts_failed++;
    fx->changed_tasks.push_back(Record(job, reduce));
    ChargeTask(job, reduce, now_ms, fx);
  }
}

void Scheduler::Exclude(Job& job, const std::string& worker, const std::string& why, int64_t now_ms, Effects* fx) {
  job.evidence.Exclude(worker, why);
  spdlog::warn("job {}: worker {} is excluded from the job: {}", job.status.job_id(), worker, why);
  std::string lost = fmt::format("worker {} is excluded from the job: {}", worker, why);
  const uint64_t id = job.status.job_id();
  for (const AttemptRef& a : workers_.RunningOn(worker)) {
    if (a.job != id) continue;
    if (Task* t = job.tasks.Find(a.kind, a.index)) LoseAttempt(job, *t, a.attempt, lost, now_ms);
  }
  for (const OutputRef& o : workers_.OutputsOn(worker)) {
    if (o.job != id) continue;
    Task* t = job.tasks.Find(proto::TASK_MAP, o.map);
    if (t != nullptr && t->state == TaskState::kDone && Name(t->done_worker) == worker) RevertMap(job, *t, lost, fx);
  }
  bool any_left = std::any_of(workers_.all().begin(), workers_.all().end(),
                              [&](const auto& kv) { return !job.evidence.Excluded(kv.first); });
  if (!any_left) {
    std::vector<std::string> reasons;
    for (auto& [w, reason] : job.evidence.excluded()) reasons.push_back(fmt::format("{}: {}", w, reason));
    FinishJob(job, proto::JOB_FAILED,
              fmt::format("no worker is left to run the job; excluded: {}", fmt::join(reasons, "; ")), now_ms, fx);
  }
}

}  // namespace mr
