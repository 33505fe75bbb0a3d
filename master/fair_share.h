// FairShare: which job a free slot goes to (DESIGN §11, "Sharing"). Max-min fairness over slots:
// the job holding the fewest slots for its weight comes first, ties to the earliest submitted
// (lowest id), so jobs submitted together share the cluster and a small job submitted behind a
// large one gets the next slots that free up instead of waiting for the large job's tasks.
//
// The Scheduler tells it which jobs are active and every attempt that starts or stops; it keeps
// the jobs ordered, so a change costs O(log jobs) and choosing is a walk from the front that stops
// at the first job able to use a slot. Shares() computes each job's fair share of the slots
// (water-filling over what each job could use), for display: it decides nothing.
// Thread-safety: not thread-safe (the Scheduler's thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace mr {

class FairShare {
 public:
  void Add(uint64_t job, double weight = 1.0);
  void Remove(uint64_t job);  // also drops its running count
  void Started(uint64_t job) { Move(job, +1); }  // an attempt of the job took a slot
  void Stopped(uint64_t job) { Move(job, -1); }  // ... and gave it back
  uint32_t Running(uint64_t job) const;

  // The first job, neediest first, for which `can_use(job)` is true; nullopt when none is.
  template <typename F>
  std::optional<uint64_t> Neediest(F&& can_use) const {
    for (const auto& [ratio, job] : order_) {
      if (can_use(job)) return job;
    }
    return std::nullopt;
  }

  // Max-min fair shares of `slots` among jobs that could use `demand` slots each (job -> demand):
  // no job gets more than its demand, and what one cannot use goes to the others by weight.
  std::map<uint64_t, double> Shares(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const;

 private:
  struct Entry {
    double weight = 1.0;
    uint32_t running = 0;
  };
  void Move(uint64_t job, int delta);
  static double Ratio(const Entry& e) { return e.running / e.weight; }

  std::map<uint64_t, Entry> jobs_;
  std::set<std::pair<double, uint64_t>> order_;  // (running / weight, job)
};

}  // namespace mr
