// A reducer (and combiner) that sums decimal integer values (Hadoop's LongSumReducer), for jobs
// whose values are counts and that declare SumCombiner(). Values that are not integers count 0.
// One object per thread.
#pragma once

#include <memory>

#include "jobs/job.h"

namespace mr {

std::unique_ptr<Reducer> NewSumReducer();

}  // namespace mr
