// Pools (DESIGN §11, "Sharing"): which pool a job belongs to, and the pools file of
// `mr master --pools FILE`, one pool a line:
//
//   # name   weight  min_share  max_running_jobs
//   etl      2       4          0
//   adhoc    1       0          3
//   *        1       0          2      <- every pool not named (default: 1 0 0)
//
// weight (> 0): the pool's share of the slots relative to other pools; min_share: slots it is due
// before pools at or above their own minimum get more (0: none); max_running_jobs: the pool's jobs
// that may run at once, the rest wait queued in priority, then submission, order (0: no limit).
// A job's pool is its --pool, else its owner (the submitting user), else "default".
// Pure functions and values; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

struct PoolConfig {
  double weight = 1.0;
  uint32_t min_share = 0;
  uint32_t max_running_jobs = 0;  // 0: no limit
};

struct PoolsConfig {
  std::map<std::string, PoolConfig> pools;
  PoolConfig defaults;  // for pools not named (the `*` line)
  const PoolConfig& For(const std::string& pool) const;
};

// A pool name: 1 to 64 of [A-Za-z0-9._-] (it appears in metrics labels and file lines).
Status CheckPoolName(std::string_view name);
// The pool of a job: spec.pool, else its owner, else "default".
std::string PoolOf(const proto::JobSpec& spec);
// Rank of a priority for ordering: high 0, normal 1, low 2.
int PriorityRank(proto::Priority p);

// Parses a pools file's text; `where` names it in errors ("pools.txt:3: weight must be > 0").
Result<PoolsConfig> ParsePools(std::string_view text, const std::string& where);
Result<PoolsConfig> ReadPoolsFile(const std::string& path);

}  // namespace mr
