#include "master/fair_share.h"

#include <algorithm>
#include <vector>

namespace mr {

void FairShare::Add(uint64_t job, double weight) {
  if (jobs_.contains(job)) return;
  Entry e{weight > 0 ? weight : 1.0, 0};
  jobs_[job] = e;
  order_.insert({Ratio(e), job});
}

void FairShare::Remove(uint64_t job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  order_.erase({Ratio(it->second), job});
  jobs_.erase(it);
}

uint32_t FairShare::Running(uint64_t job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second.running;
}

void FairShare::Move(uint64_t job, int delta) {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  Entry& e = it->second;
  if (delta < 0 && e.running == 0) return;
  order_.erase({Ratio(e), job});
  e.running = static_cast<uint32_t>(static_cast<int64_t>(e.running) + delta);
  order_.insert({Ratio(e), job});
}

std::map<uint64_t, double> FairShare::Shares(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const {
  // Water-filling: raise a common level L (slots per unit of weight); a job gets min(demand,
  // L x weight). Jobs are filled in order of demand / weight; each one that is filled hands what
  // it leaves to the rest.
  struct Claim {
    uint64_t job;
    double weight, demand;
  };
  std::vector<Claim> claims;
  double weights = 0;
  for (auto& [job, d] : demand) {
    auto it = jobs_.find(job);
    double w = it == jobs_.end() ? 1.0 : it->second.weight;
    claims.push_back({job, w, static_cast<double>(d)});
    weights += w;
  }
  std::sort(claims.begin(), claims.end(),
            [](const Claim& a, const Claim& b) { return a.demand / a.weight < b.demand / b.weight; });
  std::map<uint64_t, double> shares;
  double left = static_cast<double>(slots);
  for (const Claim& c : claims) {
    double fair = weights > 0 ? left * c.weight / weights : 0;
    double got = std::min(fair, c.demand);
    shares[c.job] = got;
    left -= got;
    weights -= c.weight;
  }
  return shares;
}

}  // namespace mr
