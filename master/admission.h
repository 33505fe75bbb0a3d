// Job admission (DESIGN §2, §3): everything the master checks and settles once, when a job is
// submitted, before the scheduler queues it: the job and its arguments, the bounds on reducers
// and split size, the output (absolute; it must not exist unless --overwrite), and the inputs —
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
constexpr uint32_t kMaxReducers = 100000;

struct AdmittedJob {
  proto::JobSpec spec;   // normalized: job name, absolute paths, defaults filled in
  proto::JobPlan plan;   // the splits, in map task order
  uint64_t input_bytes = 0;
  size_t input_files = 0;
};

// InvalidArgument, NotFound (a missing input or unknown job) or AlreadyExists (the output), with
// a message for the user.
Result<AdmittedJob> AdmitJob(proto::JobSpec spec, const OutputCommitter& committer);

}  // namespace mr
