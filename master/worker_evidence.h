// WorkerEvidence: what one job has learned about the workers from its failures (DESIGN §5), and
// what it decided: attempts that failed on each worker (Hadoop's per-job blacklist), fetches that
// failed between them (Spark's exclusion on fetch failure: a node that reducers on kExcludeEvidence
// distinct workers cannot fetch from, or whose reducers cannot fetch from kExcludeEvidence live
// nodes, is excluded), and the workers excluded from the job, with why.
// Thread-safety: none; the Scheduler's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace mr {

constexpr uint32_t kBlacklistFailures = 3;
constexpr size_t kExcludeEvidence = 2;

class WorkerEvidence {
 public:
  using IsLive = std::function<bool(const std::string& worker)>;

  // An attempt of the job failed on `worker` (its own fault, not a fetch).
  void AttemptFailed(const std::string& worker) { failures_[worker]++; }
  // The worker failed kBlacklistFailures attempts of the job: it gets no more of them, unless every
  // live worker is blacklisted (then the blacklist yields rather than stall the job).
  bool Blacklisted(const std::string& worker, const IsLive& live, size_t live_workers) const;

  // A reducer on `reducer` could not fetch a map output from `holder` (a live worker).
  void FetchFailed(const std::string& holder, const std::string& reducer);
  // Why `holder` should be excluded now (reducers on enough workers could not fetch from it), or
  // nothing.
  std::optional<std::string> CaseAgainstHolder(const std::string& holder) const;
  // Why `reducer` should be excluded now (it could not fetch from enough live, not excluded
  // workers), or nothing.
  std::optional<std::string> CaseAgainstReducer(const std::string& reducer, const IsLive& live) const;

  void Exclude(const std::string& worker, const std::string& why) { excluded_[worker] = why; }
  bool Excluded(const std::string& worker) const { return excluded_.contains(worker); }
  // Worker -> why it gets none of this job's work.
  const std::map<std::string, std::string>& excluded() const { return excluded_; }

 private:
  std::map<std::string, uint32_t> failures_;                     // failed attempts per worker
  std::map<std::string, std::set<std::string>> unreachable_from_;  // holder -> reducers that could not fetch
  std::map<std::string, std::set<std::string>> could_not_reach_;   // reducer -> holders it could not fetch from
  std::map<std::string, std::string> excluded_;
};

}  // namespace mr
