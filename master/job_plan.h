// Job planning at submit time (DESIGN §3): the job's input format is resolved into the spec (the
// user's --input-format, else the format a built-in job declares), input files are checked to be
// whole records, and a built-in job's Plan (job_api.h) runs over the splits, adding arguments to
// the spec (TeraSort's sampled cut points). The spec is journaled after this, so a resumed job
// uses the same plan. The splits are made here, once: the ones the job planned over are the ones
// its map tasks read. Pure functions over the filesystem; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "common/inputs.h"
#include "mr.pb.h"

namespace mr {

// REQUIRES: spec->split_size() > 0 (reducers 0: a map-only job); files are the expanded inputs.
// Returns the input's splits (of whole records, for a record format).
Result<std::vector<Split>> PlanJob(proto::JobSpec* spec, const std::vector<InputFile>& files);

}  // namespace mr
