// Job admission (DESIGN §2, §3): everything the master checks and settles once, when a job is
// submitted, before the scheduler queues it: the job and its arguments, the bounds on reducers
// and split size, the output (absolute; it must not exist unless --overwrite), the input format
// and the job's own planning (master/job_plan.h: TeraSort's sampled cut points), and the inputs —
// expanded, sized and cut into splits now, so a split covers the bytes a file had at submission.
// Does filesystem I/O (the inputs); pure otherwise. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "master/output_committer.h"
#include "mr.pb.h"

namespace mr {

constexpr uint64_t kDefaultSplitSize = 64ull << 20;
constexpr uint64_t kMinSplitSize = 4096;
// Upper bounds on a job's tasks (README "Limits"): past them a job is refused at submission.
constexpr uint32_t kMaxReducers = 10000;
constexpr size_t kMaxMapTasks = 200000;  // the paper's M; ~1 KiB of master memory each (docs/scale.md)

struct AdmittedJob {
  proto::JobSpec spec;   // normalized: job name, absolute paths, defaults filled in
  proto::JobPlan plan;   // the splits, in map task order (combined splits hold their parts)
  uint64_t input_bytes = 0;
  size_t input_files = 0;
};

// InvalidArgument, NotFound (a missing input or unknown job) or AlreadyExists (the output), with
// a message for the user.
Result<AdmittedJob> AdmitJob(proto::JobSpec spec, const OutputCommitter& committer);

}  // namespace mr
