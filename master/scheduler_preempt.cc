// Preemption (DESIGN §11, "Sharing"): fair share hands out slots as tasks end, which is enough when
// tasks are short. When they are not, a pool kept below its due share -- its min_share, or half its
// fair share, never more than its jobs can use -- for SchedulerOptions.preempt_after_ms takes
// slots back, up to the larger of its min_share and its fair share (as Hadoop's fair scheduler):
// the youngest attempts (the least work lost) of the pools above their fair share are cancelled on
// their workers, recorded as preempted, never charged, and their tasks run again. A donor pool is
// never taken below its own fair share, and a pool that preempted waits a full timeout before it
// may again. Runs from Tick, only while no slot is free; costs O(pools + jobs) per tick, and a look
// at the youngest running attempts of the donors' jobs when it preempts.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "master/scheduler.h"
#include "common/log.h"
#include "master/scheduler_internal.h"

namespace mr {

using scheduler_internal::Finished;

// Fair shares are sums of fractions: 3 can come out as 3.0000000000000004.
constexpr double kSlack = 1e-9;

void Scheduler::Preempt(int64_t now_ms, Effects* fx) {
  if (options_.preempt_after_ms <= 0 || workers_.AnyFree() || active_jobs_.empty()) {
    starved_since_.clear();
    return;
  }
  const std::map<uint64_t, uint64_t> demand = Demands();
  std::map<std::string, uint64_t> pool_demand;
  std::map<std::string, std::vector<uint64_t>> pool_jobs;
  for (const auto& [id, d] : demand) {
    const Job& job = jobs_.at(id);
    const std::string pool = PoolOf(job.status.spec());
    // A job no live worker may run (user code, and no worker allows it) could not use the slots.
    if (!(job.user_code && workers_.user_code_workers() == 0)) pool_demand[pool] += d;
    if (job.status.state() == proto::JOB_RUNNING) pool_jobs[pool].push_back(id);
  }
  // What each starved pool is owed now, and how far above its fair share each other pool is.
  std::map<std::string, uint64_t> owed;
  std::map<std::string, double> excess;
  std::map<std::string, int64_t> still_starved;
  for (const FairShare::PoolView& p : fair_.Pools(demand, workers_.total_slots())) {
    // Starved below its min_share or half its fair share; then owed up to the larger of its
    // min_share and its fair share (as Hadoop's fair scheduler), never more than its jobs can use.
    const double usable = static_cast<double>(pool_demand[p.name]);
    // (Below half of a one-slot share is below one slot: rounded up; the target is rounded down.)
    const uint64_t starved_below = static_cast<uint64_t>(
        std::ceil(std::min(std::max<double>(p.config.min_share, p.fair_share / 2), usable) - kSlack));
    const uint64_t target =
        static_cast<uint64_t>(std::floor(std::min(std::max<double>(p.config.min_share, p.fair_share), usable) + kSlack));
    if (p.running_slots < starved_below) {
      auto since = starved_since_.find(p.name);
      const int64_t from = since == starved_since_.end() ? now_ms : since->second;
      still_starved[p.name] = from;
      if (now_ms - from >= options_.preempt_after_ms && target > p.running_slots) {
        owed[p.name] = target - p.running_slots;
      }
    } else if (p.running_slots + kSlack >= p.fair_share + 1) {
      excess[p.name] = p.running_slots - p.fair_share + kSlack;
    }
  }
  starved_since_ = std::move(still_starved);
  if (owed.empty() || excess.empty()) return;
  uint64_t need = 0;
  for (const auto& [pool, n] : owed) need += n;

  // Candidates: the youngest attempts of the donors' jobs (tasks running one attempt; a task with
  // a backup is about to finish), at most `need` per job.
  struct Candidate {
    int64_t start_ms;
    uint64_t job;
    int kind;
    uint32_t index;
    std::string pool;
  };
  std::vector<Candidate> candidates;
  for (const auto& [pool, extra] : excess) {
    for (uint64_t id : pool_jobs[pool]) {
      const Job& job = jobs_.at(id);
      for (int k = 0; k < 2; k++) {
        const auto& solo = job.tasks.Solo(k);
        uint64_t taken = 0;
        for (auto it = solo.rbegin(); it != solo.rend() && taken < need; ++it, ++taken) {
          candidates.push_back({it->first, id, k, it->second, pool});
        }
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return std::tie(b.start_ms, a.job) < std::tie(a.start_ms, b.job); });
  for (const Candidate& c : candidates) {
    if (need == 0) break;
    double& extra = excess[c.pool];
    if (extra < 1) continue;  // the donor is at its fair share now (kSlack included)
    Job& job = jobs_.at(c.job);
    Task& t = job.tasks.Phase(c.kind)[c.index];
    if (t.running.size() != 1) continue;
    PreemptAttempt(job, t, t.running.begin()->first, owed.begin()->first, now_ms, fx);
    extra -= 1;
    need--;
    if (--owed.begin()->second == 0) {
      starved_since_[owed.begin()->first] = now_ms;  // it waits a full timeout before preempting again
      owed.erase(owed.begin());
    }
  }
  for (const auto& [pool, n] : owed) starved_since_[pool] = now_ms;
}

void Scheduler::PreemptAttempt(Job& job, Task& t, uint32_t attempt, const std::string& pool, int64_t now_ms,
                               Effects* fx) {
  const std::string worker = t.running.at(attempt).worker;
  const uint64_t id = job.status.job_id();
  spdlog::info("job {} {} {} attempt {} on worker {} is preempted: pool {} is below its share", id,
               TaskKindName(t.kind), t.index, attempt, worker, pool);
  EndAttempt(job, t, attempt, AttemptOutcome::kPreempted, now_ms,
             fmt::format("preempted to give its slot to pool {}, below its share", pool));
  StopRunning(job, t, attempt);
  fx->cancels.push_back({worker, {id, t.kind, t.index, attempt}});
  IdleIfStopped(job, t);  // runs again; not charged
  job.attempts_preempted++;
  totals_.attempts_preempted++;
  totals_.pool_preemptions[pool]++;
  fx->changed_jobs.push_back(id);
}

}  // namespace mr
