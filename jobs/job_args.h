// Argument helpers for the built-in jobs, in the style of GetBoolArg and CheckKnownArgs (job.h):
// each reads one `--arg KEY=VALUE`, falls back to a default when it is absent, and otherwise fails
// with InvalidArgument and a message that names the argument, the bad value and what is wanted.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace mr {

// A decimal integer in [min, max] (no sign other than a leading '-', no spaces, no suffix).
// REQUIRES: min <= default_value <= max.
Result<int64_t> GetIntArg(const JobArgs& args, const std::string& key, int64_t default_value, int64_t min,
                          int64_t max);

// One of `choices`, spelled exactly; returns its index. REQUIRES: default_index < choices.size().
Result<size_t> GetChoiceArg(const JobArgs& args, const std::string& key,
                            const std::vector<std::string>& choices, size_t default_index);

}  // namespace mr

namespace mr {

// What `mr help JOB` shows: a built-in job's one-line summary and the `--arg` keys it takes, with
// their meaning and default. Every job of the registry (JobNames) has one, and it declares exactly
// the keys the job accepts (checked by jobs/job_args_test.cc). Immutable; thread-safe.
struct JobArgInfo {
  std::string key;
  std::string meaning;
  std::string default_value;  // "" when the argument is required or has no default
  bool required = false;
};
struct JobInfo {
  std::string name;
  std::string summary;
  std::string output;  // what one output line holds
  std::vector<JobArgInfo> args;
  // A map-only job (DESIGN §3): it has no reduce phase whatever --reducers says; its maps write
  // the output (part-m-NNNNN).
  bool map_only = false;
};

// The description of the built-in job `name`; nullptr when there is none.
const JobInfo* DescribeJob(const std::string& name);

}  // namespace mr
