#include "master/fair_share.h"

#include <algorithm>

namespace mr {

namespace {

struct Claim {
  double weight = 1, floor = 0, demand = 0;
};

// Water-filling with floors: each claim gets min(demand, max(floor, level x weight)), the level
// chosen so the claims use `slots` (or all get their demand). Floors that alone exceed the slots
// are scaled down.
std::vector<double> Fill(const std::vector<Claim>& claims, double slots) {
  std::vector<double> got(claims.size(), 0);
  double floors = 0, demands = 0, top = 0;
  for (const Claim& c : claims) {
    floors += std::min(c.floor, c.demand);
    demands += c.demand;
    top = std::max(top, c.demand / c.weight);
  }
  auto at = [&](double level) {
    double sum = 0;
    for (size_t i = 0; i < claims.size(); i++) {
      const Claim& c = claims[i];
      got[i] = std::min(c.demand, std::max(c.floor, level * c.weight));
      sum += got[i];
    }
    return sum;
  };
  if (slots <= 0) return got;
  if (demands <= slots) {
    at(top);
    return got;
  }
  if (floors >= slots) {
    for (size_t i = 0; i < claims.size(); i++) got[i] = std::min(claims[i].floor, claims[i].demand) * slots / floors;
    return got;
  }
  double lo = 0, hi = top;
  for (int i = 0; i < 60; i++) {
    double mid = (lo + hi) / 2;
    (at(mid) > slots ? hi : lo) = mid;
  }
  at(lo);
  return got;
}

}  // namespace

FairShare::PoolKey FairShare::KeyOf(const std::string& name, const Pool& p) {
  if (p.config.min_share > 0 && p.running < p.config.min_share) {
    return {0, static_cast<double>(p.running) / p.config.min_share, name};
  }
  return {1, p.running / p.config.weight, name};
}

void FairShare::Configure(PoolsConfig config) {
  config_ = std::move(config);
  order_.clear();
  for (auto& [name, p] : pools_) {
    p.config = config_.For(name);
    order_.insert(KeyOf(name, p));
  }
}

void FairShare::Add(uint64_t job, const std::string& pool, int rank, bool started) {
  if (jobs_.contains(job)) return;
  jobs_[job] = {pool, rank, 0, started};
  auto [it, fresh] = pools_.try_emplace(pool);
  Pool& p = it->second;
  if (fresh) p.config = config_.For(pool);
  else order_.erase(KeyOf(pool, p));
  p.jobs.insert({rank, 0, job});
  if (started) p.started_jobs++;
  else p.queued.insert({rank, job});
  order_.insert(KeyOf(pool, p));
}

void FairShare::Remove(uint64_t job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  const Job& j = it->second;
  Pool& p = pools_.at(j.pool);
  order_.erase(KeyOf(j.pool, p));
  p.jobs.erase({j.rank, j.running, job});
  p.running -= std::min(p.running, j.running);
  if (j.started) p.started_jobs--;
  else p.queued.erase({j.rank, job});
  if (p.jobs.empty()) pools_.erase(j.pool);
  else order_.insert(KeyOf(j.pool, p));
  jobs_.erase(it);
}

void FairShare::JobStarted(uint64_t job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.started) return;
  Job& j = it->second;
  j.started = true;
  Pool& p = pools_.at(j.pool);
  p.queued.erase({j.rank, job});
  p.started_jobs++;
}

uint32_t FairShare::Running(uint64_t job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second.running;
}

bool FairShare::MayStart(uint64_t job) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return false;
  if (it->second.started) return true;
  const Pool& p = pools_.at(it->second.pool);
  return p.config.max_running_jobs == 0 || p.started_jobs < p.config.max_running_jobs;
}

uint32_t FairShare::QueuePosition(uint64_t job) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.started) return 0;
  const Pool& p = pools_.at(it->second.pool);
  auto at = p.queued.find({it->second.rank, job});
  return static_cast<uint32_t>(std::distance(p.queued.begin(), at)) + 1;
}

void FairShare::Move(uint64_t job, int delta) {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  Job& j = it->second;
  if (delta < 0 && j.running == 0) return;
  Pool& p = pools_.at(j.pool);
  order_.erase(KeyOf(j.pool, p));
  p.jobs.erase({j.rank, j.running, job});
  j.running = static_cast<uint32_t>(static_cast<int64_t>(j.running) + delta);
  p.running = static_cast<uint32_t>(static_cast<int64_t>(p.running) + delta);
  p.jobs.insert({j.rank, j.running, job});
  order_.insert(KeyOf(j.pool, p));
}

std::map<uint64_t, double> FairShare::Shares(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const {
  if (demand.size() == 1) {  // the common case of one job: no pools to weigh
    auto [job, d] = *demand.begin();
    return {{job, static_cast<double>(std::min(d, slots))}};
  }
  // The pools' shares first, from the demand of their jobs.
  std::map<std::string, std::vector<std::pair<uint64_t, double>>> by_pool;  // pool -> (job, demand)
  for (auto& [job, d] : demand) {
    auto it = jobs_.find(job);
    by_pool[it == jobs_.end() ? std::string("default") : it->second.pool].push_back({job, static_cast<double>(d)});
  }
  std::vector<Claim> pool_claims;
  for (auto& [name, jobs] : by_pool) {
    const PoolConfig& c = config_.For(name);
    Claim claim{c.weight, static_cast<double>(c.min_share), 0};
    for (auto& [job, d] : jobs) claim.demand += d;
    pool_claims.push_back(claim);
  }
  std::vector<double> pool_share = Fill(pool_claims, static_cast<double>(slots));
  // Then each pool's share between its jobs: by priority rank, equal within a rank.
  std::map<uint64_t, double> shares;
  size_t i = 0;
  for (auto& [name, jobs] : by_pool) {
    double left = pool_share[i++];
    std::map<int, std::vector<std::pair<uint64_t, double>>> by_rank;
    for (auto& [job, d] : jobs) {
      auto it = jobs_.find(job);
      by_rank[it == jobs_.end() ? 1 : it->second.rank].push_back({job, d});
    }
    for (auto& [rank, group] : by_rank) {
      std::vector<Claim> claims;
      for (auto& [job, d] : group) claims.push_back({1, 0, d});
      std::vector<double> got = Fill(claims, left);
      for (size_t k = 0; k < group.size(); k++) {
        shares[group[k].first] = got[k];
        left -= got[k];
      }
      left = std::max(left, 0.0);
    }
  }
  return shares;
}

std::vector<FairShare::PoolView> FairShare::Pools(const std::map<uint64_t, uint64_t>& demand, uint64_t slots) const {
  std::map<uint64_t, double> shares = Shares(demand, slots);
  std::vector<PoolView> out;
  for (auto& [name, p] : pools_) {
    PoolView v{name, p.config, p.running, static_cast<uint32_t>(p.jobs.size()), p.started_jobs, 0};
    for (auto& [rank, running, job] : p.jobs) {
      auto s = shares.find(job);
      if (s != shares.end()) v.fair_share += s->second;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace mr
