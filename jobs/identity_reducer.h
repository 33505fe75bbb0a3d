// A reducer that writes every value under its key unchanged (Hadoop's IdentityReducer): for jobs
// whose map output is already the answer, such as grep and streaming jobs without a reducer.
// One object per thread.
#pragma once

#include <memory>

#include "jobs/job.h"

namespace mr {

std::unique_ptr<Reducer> NewIdentityReducer();

}  // namespace mr
