// A pipeline's later steps as the command line gives them (--then, on `mr run` and `mr submit`):
// "JOB [KEY=VALUE]..." (a built-in job) or "mapper=CMD [reducer=CMD] [combiner=CMD] [KEY=VALUE]..."
// (a streaming step), its words split as a shell splits them. Each becomes a JobSpec in the first
// step's `then`; the master runs them (master/pipeline.h). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

// The step's spec, with no input or output (the master gives them): one reducer unless the step
// says otherwise; a streaming step gets the first step's --files. InvalidArgument naming the step.
Result<proto::JobSpec> MakeStepSpec(const std::string& text, const proto::JobSpec& first);

// What the master would refuse of the steps at submit, checked before anything starts: a step's
// unknown job or bad argument, named by its text (`texts`: the --then values, in order). Exit
// code 1, as when the master refuses.
Status CheckSteps(const proto::JobSpec& first, const std::vector<std::string>& texts);

}  // namespace mr
