#include "master/worker_evidence.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <vector>

namespace mr {

bool WorkerEvidence::Blacklisted(const std::string& worker, const IsLive& live, size_t live_workers) const {
  auto it = failures_.find(worker);
  if (it == failures_.end() || it->second < kBlacklistFailures) return false;
  size_t live_blacklisted = 0;
  for (const auto& [id, failures] : failures_) live_blacklisted += failures >= kBlacklistFailures && live(id);
  return live_blacklisted < live_workers;
}

void WorkerEvidence::FetchFailed(const std::string& holder, const std::string& reducer) {
  if (holder == reducer) return;
  unreachable_from_[holder].insert(reducer);
  could_not_reach_[reducer].insert(holder);
}

std::optional<std::string> WorkerEvidence::CaseAgainstHolder(const std::string& holder) const {
  auto it = unreachable_from_.find(holder);
  if (Excluded(holder) || it == unreachable_from_.end() || it->second.size() < kExcludeEvidence) return std::nullopt;
  return fmt::format("reducers on {} workers ({}) could not fetch its map output", it->second.size(),
                     fmt::join(it->second, ", "));
}

std::optional<std::string> WorkerEvidence::CaseAgainstReducer(const std::string& reducer, const IsLive& live) const {
  auto it = could_not_reach_.find(reducer);
  if (Excluded(reducer) || !live(reducer) || it == could_not_reach_.end()) return std::nullopt;
  std::vector<std::string> reachable_others;
  for (const std::string& h : it->second) {
    if (live(h) && !Excluded(h)) reachable_others.push_back(h);
  }
  if (reachable_others.size() < kExcludeEvidence) return std::nullopt;
  return fmt::format("its reducers could not fetch from {} live workers ({})", reachable_others.size(),
                     fmt::join(reachable_others, ", "));
}

}  // namespace mr
