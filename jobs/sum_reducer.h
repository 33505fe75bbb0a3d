// A reducer (and combiner) that sums decimal integer values (Hadoop's LongSumReducer), for jobs
// whose values are counts and that declare SumCombiner(). Values that are not integers count 0.
// Sums never wrap: a sum (or a value) beyond the signed 64-bit range fails the task through
// ctx.Fail, naming the key, and so the job. One object per thread.
#pragma once

#include <memory>

#include "jobs/job.h"

namespace mr {

std::unique_ptr<Reducer> NewSumReducer(const TaskContext& ctx);

// The error a job fails with when the values of `key` sum beyond the signed 64-bit range.
std::string SumOverflowError(std::string_view key);

}  // namespace mr
