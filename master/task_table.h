// TaskTable: one job's tasks and every index over them, with the invariants that tie them
// (docs/scale.md: each costs O(log n) to keep, so no event scans the tasks):
//  - a task's state is counted in Count(kind, state): the number of done maps is Count, never a
//    hand-kept total;
//  - an idle task is in its kind's IdleQueue (unless a retry holds it back: HoldBack);
//  - a task running exactly one attempt is in Solo(kind) by that attempt's start (the straggler
//    check looks at the oldest);
//  - a done task's duration is in Durations(kind) and its counters in CounterSums();
//  - a done map whose worker was lost is in Orphans() (and has orphaned_ms).
// Every change of a task's state, running attempts or orphan mark goes through SetState, Reindex
// and SetOrphaned. The reduce gate -- may a reduce start now? -- is MayStartReduces, here alone.
// A Task itself is kept in a few hundred bytes (master/scheduler_compact.h).
// Thread-safety: none; the Scheduler's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "master/scheduler_compact.h"
#include "master/scheduler_index.h"
#include "mr.pb.h"

namespace mr {

// How an attempt ended, for the dashboard's timeline.
enum class AttemptOutcome {
  kRunning,
  kSucceeded,
  kFailed,      // the worker reported a failure (or its output could not be committed)
  kLost,        // its worker died, or (for a map) its finished output was lost later
  kSuperseded,  // another attempt of the task finished first
  kKilled,      // the job ended while it ran
  kPreempted,   // cancelled to give its slot to a pool kept below its share (not charged)
};
const char* AttemptOutcomeName(AttemptOutcome o);
// The outcome a view (proto::AttemptRecord.outcome) names; an unknown name reads as kKilled.
AttemptOutcome OutcomeFromName(const std::string& name);
inline AttemptOutcome OutcomeOf(const proto::AttemptRecord& a) { return OutcomeFromName(a.outcome()); }

enum class TaskState : uint8_t { kIdle, kRunning, kDone };

// 0 for maps, 1 for reduces: the index of a kind in the per-kind arrays.
inline int KindIndex(proto::TaskKind kind) { return kind == proto::TASK_MAP ? 0 : 1; }

struct Task {
  struct Running {
    std::string worker;
    int64_t start_ms = 0;
  };
  // One remembered attempt (observability), with the worker as a pooled name.
  struct Attempt {
    uint32_t attempt = 0;
    uint32_t worker = 0;                        // NamePool
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    AttemptOutcome outcome = AttemptOutcome::kRunning;
    bool backup = false;
    std::unique_ptr<std::string> error;         // null: none (most attempts)
    int64_t records_in = 0, records_out = 0, bytes_in = 0, bytes_out = 0;
    void SetError(const std::string& e) { error = e.empty() ? nullptr : std::make_unique<std::string>(e); }
  };
  // What few tasks ever need: allocated on first use.
  struct Extra {
    std::string last_error;
    CounterList stashed_counters;               // of the lost output, for a re-adoption
  };

  proto::TaskKind kind = proto::TASK_MAP;
  uint32_t index = 0;
  TaskState state = TaskState::kIdle;
  bool rerun_pending = false;                 // a done map that lost its output and must run again
  uint32_t attempts = 0;                      // attempts started
  uint32_t failures = 0;
  uint32_t backups = 0;
  uint32_t fetch_failures = 0;                // reports since the output was last made
  uint32_t fetch_reruns = 0;                  // map: runs again because its output could not be fetched
  uint32_t fetch_failed_attempts = 0;         // reduce: attempts that ended on a failed fetch
  uint32_t lost_attempts = 0;                 // attempts lost in a row with a worker they ran on alone
  uint32_t stashed_attempt = 0;               // attempt of extra->stashed_counters
  uint32_t done_worker = 0;                   // NamePool: the worker holding a done map's output
                                              // (0 = unknown, since a master restart)
  uint32_t done_address = 0;                  // NamePool
  uint32_t done_attempt = 0;
  int64_t orphaned_ms = 0;                    // done map whose worker was lost at this time (0: not)
  int64_t duration_ms = 0;                    // of the attempt that succeeded
  int64_t solo_start_ms = -1;                 // its key in Solo() while one attempt runs
  std::map<uint32_t, Running> running;        // attempt -> where and since when
  CounterList counters;                       // of the attempt that succeeded
  // Observability only: the newest attempts, oldest first. A vector: an empty one costs no
  // allocation (a std::deque allocates ~600 bytes at once).
  std::vector<Attempt> history;
  std::unique_ptr<Extra> extra;

  Extra& MutableExtra() {
    if (!extra) extra = std::make_unique<Extra>();
    return *extra;
  }
  const std::string& LastError() const;
  // The remembered attempt `attempt`, or nullptr.
  Attempt* History(uint32_t attempt);
};

class TaskTable {
 public:
  // names: the pool the tasks' counter names are in (not owned; outlives the table).
  explicit TaskTable(const NamePool* names) : names_(names) {}

  // `maps` map tasks and `reduces` reduce tasks, all idle, every index empty.
  void Build(uint32_t maps, uint32_t reduces);
  // The job ended: its tasks stay (for the views), the indexes go.
  void DropIndexes();
  bool built() const { return !maps_.empty() || !reduces_.empty(); }

  std::vector<Task>& Phase(int k) { return k == 0 ? maps_ : reduces_; }
  const std::vector<Task>& Phase(int k) const { return k == 0 ? maps_ : reduces_; }
  std::vector<Task>& maps() { return maps_; }
  std::vector<Task>& reduces() { return reduces_; }
  const std::vector<Task>& maps() const { return maps_; }
  const std::vector<Task>& reduces() const { return reduces_; }
  Task* Find(proto::TaskKind kind, uint32_t index);

  // The one way to change a task's state: counts, idle queue, durations and counter sums follow.
  void SetState(Task& t, TaskState state);
  // After t.running changed: the solo index follows.
  void Reindex(Task& t);
  // A done map's worker was lost at since_ms (0: it is back, or the map runs again).
  void SetOrphaned(Task& t, int64_t since_ms);
  // Adds (+1) or takes back (-1) a done task's counters in the sums (a re-adoption's late report).
  void AddCounters(const Task& t, int sign);
  // An idle task that must not be picked for now (a retry held back), or may be again.
  void HoldBack(Task& t) { idle_[KindIndex(t.kind)].MarkBusy(t.index); }
  void Release(Task& t) { idle_[KindIndex(t.kind)].MarkIdle(t.index); }
  bool Pickable(const Task& t) const { return idle_[KindIndex(t.kind)].IsIdle(t.index); }

  uint64_t Count(int k, TaskState state) const { return count_[k][static_cast<int>(state)]; }
  uint32_t Done(int k) const { return static_cast<uint32_t>(Count(k, TaskState::kDone)); }
  bool AllDone(int k) const { return Done(k) == Phase(k).size(); }
  // Reduces may start once every map is done and no map output waits for a lost worker.
  bool MayStartReduces() const { return AllDone(0) && orphans_.empty(); }
  // The next idle task to run: maps first, then reduces once they may start; nullptr when none.
  Task* NextIdle();
  uint32_t IdleCount(int k) const { return idle_[k].count(); }
  // The phase whose tasks run now (0 while a map is not done, else 1).
  int CurrentPhase() const { return AllDone(0) ? 1 : 0; }

  const MedianTracker& Durations(int k) const { return durations_[k]; }
  const std::set<std::pair<int64_t, uint32_t>>& Solo(int k) const { return solo_[k]; }
  const std::set<uint32_t>& Orphans() const { return orphans_; }
  const std::map<std::string, int64_t>& CounterSums() const { return counter_sums_; }

 private:
  const NamePool* names_;
  std::vector<Task> maps_, reduces_;
  IdleQueue idle_[2];
  uint64_t count_[2][3] = {};
  MedianTracker durations_[2];
  std::set<std::pair<int64_t, uint32_t>> solo_[2];  // (start, index) of tasks running one attempt
  std::map<std::string, int64_t> counter_sums_;     // over the done tasks
  std::set<uint32_t> orphans_;                      // done maps whose worker is lost
};

}  // namespace mr
