// WorkerTable: the live workers and everything the master keeps about them, with the indexes that
// make each event cost O(log n) (docs/scale.md):
//  - the registry: each worker's record by name, and the name each identity goes by;
//  - slots: every worker's free slots (FreeSlots), and the totals;
//  - liveness: workers by last heartbeat (Liveness), the one home of that time;
//  - running attempts by worker (RunningOn), so a worker's loss or exclusion costs its attempts,
//    not a scan of every task;
//  - map outputs by the worker that holds them (OutputsOn), likewise;
//  - the workers lost recently, for the views.
// The Scheduler keeps the attempt and output indexes in step with its tasks (every start and end
// of an attempt, every map output made, moved or lost goes through it).
// Thread-safety: none; the Scheduler's thread only.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "master/scheduler_index.h"
#include "mr.pb.h"

namespace mr {

constexpr size_t kLostWorkersKept = 32;

// A worker's registration (proto RegisterWorker, with the name the master gave its identity).
struct WorkerRegistration {
  std::string id;                // the master's name for the worker (its --name, or host:port)
  uint64_t incarnation = 0;      // same id and incarnation = the same process reconnecting
  std::string address;           // its shuffle server, reachable by other hosts
  uint32_t slots = 1;
  std::vector<proto::HeldMapOutput> held;  // complete map outputs in its store
  std::vector<uint64_t> jobs_with_data;    // every job it holds any data of
  std::string host;                        // for display
  uint32_t pid = 0;
  bool allow_user_code = false;            // it runs plugin and streaming tasks
};

struct LostWorker {
  std::string id;
  std::string address;
  std::string host;
  uint32_t pid = 0;
  int64_t registered_ms = 0;
  std::string reason;
  int64_t lost_ms = 0;
  uint64_t tasks_succeeded = 0;
  uint64_t tasks_failed = 0;
};

// One attempt of one task, as the running index names it.
struct AttemptRef {
  uint64_t job = 0;
  proto::TaskKind kind = proto::TASK_MAP;
  uint32_t index = 0;
  uint32_t attempt = 0;
  auto operator<=>(const AttemptRef&) const = default;
};

// One map task's output, as the output index names it.
struct OutputRef {
  uint64_t job = 0;
  uint32_t map = 0;
  auto operator<=>(const OutputRef&) const = default;
};

class WorkerTable {
 public:
  struct Worker {
    std::string id;
    std::string address;
    uint32_t slots = 0;
    uint32_t running = 0;
    uint64_t succeeded = 0;
    uint64_t failed = 0;
    int64_t registered_ms = 0;
    uint64_t incarnation = 0;
    std::string host;
    uint32_t pid = 0;
    bool allow_user_code = false;
  };

  // The name a worker of `identity` goes by here: the --name it asks for (refused when a live
  // worker of another identity has it), else the one it had before with this master, else `known`
  // (the name a master gave it before, kept in its data dir, so it survives the master's
  // restarts) unless a live worker of another identity has that, else its shuffle address (with
  // #2, #3, ... while a live worker of another identity has that).
  Result<std::string> NameFor(const std::string& identity, const std::string& requested,
                              const std::string& shuffle_address, const std::string& known = "");
  // The identity a registration is named by (an anonymous one gets a name of its own).
  std::string IdentityOf(const std::string& identity);

  // Adds or updates the worker named reg.id; *returning says whether it was live already.
  Worker& Add(const WorkerRegistration& reg, const std::string& identity, int64_t now_ms, bool* returning);
  // Removes a live worker (its slots, liveness and indexes), remembering it as lost.
  void Remove(const std::string& id, const std::string& reason, int64_t now_ms);
  Worker* Find(const std::string& id);
  const Worker* Find(const std::string& id) const;
  bool Contains(const std::string& id) const { return workers_.contains(id); }
  size_t size() const { return workers_.size(); }
  bool empty() const { return workers_.empty(); }
  const std::map<std::string, Worker>& all() const { return workers_; }

  // Slots.
  void SetRunning(Worker& w, uint32_t running);
  // One slot of the worker is free again (no-op for a gone worker); true if one was.
  bool ReleaseSlot(const std::string& id);
  // The worker with the most free slots that `ok` accepts; nullptr when none.
  Worker* FindFree(const std::function<bool(const Worker&)>& ok);
  bool AnyFree() const { return !free_.empty(); }
  uint64_t total_slots() const { return total_slots_; }
  // Live workers that run plugin and streaming tasks (--allow-user-code).
  size_t user_code_workers() const { return user_code_workers_; }
  uint64_t busy_slots() const { return busy_slots_; }

  // Liveness.
  void Heartbeat(const std::string& id, int64_t now_ms) { liveness_.Refresh(id, now_ms); }
  std::vector<std::string> Silent(int64_t now_ms, int64_t timeout_ms) const { return liveness_.Before(now_ms - timeout_ms); }
  int64_t LastHeartbeatMs(const std::string& id) const { return liveness_.LastMs(id); }
  int64_t OldestHeartbeatMs() const { return liveness_.empty() ? 0 : liveness_.OldestMs(); }
  // When the set of live workers last became non-empty (recovery graces count from it).
  int64_t live_since_ms() const { return live_since_ms_; }

  // The attempts running on each worker.
  void AttemptStarted(const std::string& worker, const AttemptRef& a) { running_[worker].insert(a); }
  void AttemptStopped(const std::string& worker, const AttemptRef& a);
  std::vector<AttemptRef> RunningOn(const std::string& worker) const;

  // The map outputs each worker holds (for a running job).
  void OutputHeld(const std::string& worker, const OutputRef& o) { outputs_[worker].insert(o); }
  void OutputDropped(const std::string& worker, const OutputRef& o);
  std::vector<OutputRef> OutputsOn(const std::string& worker) const;

  const std::deque<LostWorker>& lost() const { return lost_; }

 private:
  std::map<std::string, Worker> workers_;
  std::map<std::string, std::string> identity_of_;    // live worker name -> identity
  std::map<std::string, std::string> name_of_;        // identity -> its name here (kept for the master's life)
  uint64_t next_anonymous_ = 1;
  FreeSlots free_;
  Liveness liveness_;
  uint64_t total_slots_ = 0, busy_slots_ = 0;
  size_t user_code_workers_ = 0;
  int64_t live_since_ms_ = 0;
  std::map<std::string, std::set<AttemptRef>> running_;
  std::map<std::string, std::set<OutputRef>> outputs_;
  std::deque<LostWorker> lost_;
};

}  // namespace mr
