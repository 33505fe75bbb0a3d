#include "master/task_table.h"

namespace mr {

const char* AttemptOutcomeName(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kRunning: return "running";
    case AttemptOutcome::kSucceeded: return "succeeded";
    case AttemptOutcome::kFailed: return "failed";
    case AttemptOutcome::kLost: return "lost";
    case AttemptOutcome::kSuperseded: return "superseded";
    case AttemptOutcome::kKilled: return "killed";
    case AttemptOutcome::kPreempted: return "preempted";
  }
  return "unknown";
}

AttemptOutcome OutcomeFromName(const std::string& name) {
  for (AttemptOutcome o : {AttemptOutcome::kRunning, AttemptOutcome::kSucceeded, AttemptOutcome::kFailed,
                           AttemptOutcome::kLost, AttemptOutcome::kSuperseded, AttemptOutcome::kKilled,
                           AttemptOutcome::kPreempted}) {
    if (name == AttemptOutcomeName(o)) return o;
  }
  return AttemptOutcome::kKilled;
}

const std::string& Task::LastError() const {
  static const std::string kNone;
  return extra ? extra->last_error : kNone;
}

Task::Attempt* Task::History(uint32_t attempt) {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->attempt == attempt) return &*it;
  }
  return nullptr;
}

void TaskTable::Build(uint32_t maps, uint32_t reduces) {
  maps_.clear();
  reduces_.clear();
  maps_.resize(maps);
  for (uint32_t i = 0; i < maps; i++) maps_[i].index = i;
  reduces_.resize(reduces);
  for (uint32_t i = 0; i < reduces; i++) {
    reduces_[i].kind = proto::TASK_REDUCE;
    reduces_[i].index = i;
  }
  for (int k = 0; k < 2; k++) {
    const uint32_t n = static_cast<uint32_t>(Phase(k).size());
    idle_[k].Reset(n);
    count_[k][static_cast<int>(TaskState::kIdle)] = n;
    count_[k][static_cast<int>(TaskState::kRunning)] = 0;
    count_[k][static_cast<int>(TaskState::kDone)] = 0;
    durations_[k] = {};
    solo_[k].clear();
  }
  counter_sums_.clear();
  orphans_.clear();
}

void TaskTable::DropIndexes() {
  for (int k = 0; k < 2; k++) {
    idle_[k] = {};
    durations_[k] = {};
    solo_[k].clear();
  }
  orphans_.clear();
  counter_sums_.clear();
}

Task* TaskTable::Find(proto::TaskKind kind, uint32_t index) {
  auto& tasks = Phase(KindIndex(kind));
  return index < tasks.size() ? &tasks[index] : nullptr;
}

void TaskTable::SetState(Task& t, TaskState state) {
  if (t.state == state) return;
  const int k = KindIndex(t.kind);
  count_[k][static_cast<int>(t.state)]--;
  count_[k][static_cast<int>(state)]++;
  if (t.state == TaskState::kIdle) idle_[k].MarkBusy(t.index);
  if (t.state == TaskState::kDone) {
    durations_[k].Erase(t.duration_ms);
    AddCounters(t, -1);
  }
  t.state = state;
  if (state == TaskState::kIdle) idle_[k].MarkIdle(t.index);
  if (state == TaskState::kDone) {
    durations_[k].Insert(t.duration_ms);
    AddCounters(t, +1);
  }
}

void TaskTable::Reindex(Task& t) {
  auto& solo = solo_[KindIndex(t.kind)];
  if (t.solo_start_ms >= 0) solo.erase({t.solo_start_ms, t.index});
  t.solo_start_ms = -1;
  if (t.running.size() == 1) {
    t.solo_start_ms = t.running.begin()->second.start_ms;
    solo.insert({t.solo_start_ms, t.index});
  }
}

void TaskTable::SetOrphaned(Task& t, int64_t since_ms) {
  t.orphaned_ms = since_ms;
  if (since_ms != 0) orphans_.insert(t.index);
  else orphans_.erase(t.index);
}

void TaskTable::AddCounters(const Task& t, int sign) {
  // A counter stays listed once a task reported it, even if the task's output is lost later.
  for (auto& [k, v] : t.counters) counter_sums_[(*names_)[k]] += sign * v;
}

Task* TaskTable::NextIdle() {
  if (auto i = idle_[0].Next()) return &maps_[*i];
  // New reduce attempts wait while an output's worker is lost: they would only fail to fetch it.
  if (!MayStartReduces()) return nullptr;
  if (auto i = idle_[1].Next()) return &reduces_[*i];
  return nullptr;
}

}  // namespace mr
