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
  uint64_t previous_job = 0;  // a pipeline's later step: the job of the step before
};

// Where submitters may read and write (DESIGN §11, `mr master --allow-input/--allow-output`):
// inputs only under allow_input, outputs only under allow_output (empty: anywhere), and never an
// output inside a protected directory (the master's data dir). Paths are compared after symbolic
// links are resolved, so a link cannot lead out.
struct PathPolicy {
  std::vector<std::string> allow_input;
  std::vector<std::string> allow_output;
  std::vector<std::string> protected_dirs;
};
// PermissionDenied naming the path and the flag that would allow it. `files`: the input files the
// inputs expand to (each is checked; a directory under an allowed one may hold a link leading out).
Status CheckPathPolicy(const proto::JobSpec& spec, const std::vector<std::string>& files, const PathPolicy& policy);
// The same for a journaled job (its split plan's files), when a restarted master resumes it.
Status CheckPathPolicy(const proto::JobSpec& spec, const proto::JobPlan& plan, const PathPolicy& policy);

// InvalidArgument, NotFound (a missing input or unknown job), AlreadyExists (the output) or
// PermissionDenied (a path the policy does not allow), with a message for the user. Paths (inputs,
// output, job_lib) must be absolute: the client makes them so in the directory it runs in
// (client/commands.cc), the one place they are resolved; a relative one is InvalidArgument.
Result<AdmittedJob> AdmitJob(proto::JobSpec spec, const OutputCommitter& committer, const PathPolicy& policy = {});

}  // namespace mr
