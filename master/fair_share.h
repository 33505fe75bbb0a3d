// FairShare: which job a free slot goes to (DESIGN §11, "Sharing"). Two levels of max-min
// fairness over slots: first between pools (master/pools.h), then between the jobs of a pool.
//  - Pools: a pool below its min_share comes first (fewest running for its minimum first); then
//    the pool holding the fewest slots for its weight; ties by name.
//  - Jobs in a pool: higher priority first; then the job holding the fewest slots; ties to the
//    earliest submitted (lowest id). So jobs submitted together share the cluster, and a small
//    job submitted behind a large one gets the next slots that free up.
//  - A pool runs at most max_running_jobs jobs at once; the rest wait in its queue, in priority,
//    then submission, order (MayStart, QueuePosition).
//
// The Scheduler tells it which jobs are active, which have started, and every attempt that starts
// or stops; it keeps pools and jobs ordered, so a change costs O(log jobs) and choosing is a walk
// from the front that stops at the first job able to use a slot. Shares() computes fair shares
// (water-filling over what each job could use), for display and metrics: it decides nothing.
// Thread-safety: not thread-safe (the Scheduler's thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "master/pools.h"

namespace mr {

class FairShare {
 public:
  // New pool settings (a reloaded pools file): every pool is re-ordered by them.
  void Configure(PoolsConfig config);
  const PoolsConfig& config() const { return config_; }

  // rank: the job's priority rank (PriorityRank: 0 first). started: it left the queue (a resumed
  // running job).
  void Add(uint64_t job, const std::string& pool, int rank = 1, bool started = false);
  void Remove(uint64_t job);  // also drops its running count
  void JobStarted(uint64_t job);  // left its pool's queue
  void Started(uint64_t job) { Move(job, +1); }  // an attempt of the job took a slot
  void Stopped(uint64_t job) { Move(job, -1); }  // ... and gave it back
  uint32_t Running(uint64_t job) const;

  // A queued job may start: its pool runs fewer than its max_running_jobs.
  bool MayStart(uint64_t job) const;
  // 1 for the first queued job of its pool, 2 for the next...; 0 when it started (or is unknown).
  uint32_t QueuePosition(uint64_t job) const;

  // The first job, neediest first, for which `can_use(job)` is true; nullopt when none is.
  template <typename F>
  std::optional<uint64_t> Neediest(F&& can_use) const {
    for (const auto& key : order_) {
      for (const auto& [rank, running, job] : pools_.at(std::get<2>(key)).jobs) {
        if (can_use(job)) return job;
      }
    }
    return std::nullopt;
  }

  // Fair shares of `slots` for jobs that could use `demand` slots each (job -> demand): pools get
  // max(min_share, level x weight), never more than their jobs can use, the rest going to the
  // others; inside a pool higher priorities are served first, equal ones equally.
  std::map<uint64_t, double> Shares(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const;

  struct PoolView {
    std::string name;
    PoolConfig config;
    uint32_t running_slots = 0;
    uint32_t jobs = 0;          // unfinished
    uint32_t running_jobs = 0;  // started
    double fair_share = 0;
  };
  // Every pool with an unfinished job, by name, with its share of `slots` (demand as in Shares).
  std::vector<PoolView> Pools(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const;

 private:
  struct Job {
    std::string pool;
    int rank = 1;
    uint32_t running = 0;
    bool started = false;
  };
  using PoolKey = std::tuple<int, double, std::string>;  // (0 below min_share else 1, ratio, name)
  struct Pool {
    PoolConfig config;
    uint32_t running = 0;
    uint32_t started_jobs = 0;
    std::set<std::tuple<int, uint32_t, uint64_t>> jobs;  // (rank, running, id)
    std::set<std::pair<int, uint64_t>> queued;           // (rank, id) of jobs not started
  };
  static PoolKey KeyOf(const std::string& name, const Pool& p);
  void Move(uint64_t job, int delta);

  PoolsConfig config_;
  std::map<uint64_t, Job> jobs_;
  std::map<std::string, Pool> pools_;  // pools with an unfinished job
  std::set<PoolKey> order_;
};

}  // namespace mr
