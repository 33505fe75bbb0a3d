// Pipelines the master runs (mr submit --then; DESIGN §3): a job whose spec lists `then` steps is
// the first step of a chain. Each later step is a job of its own, submitted by the master when the
// step before succeeds and reading that step's output, which is kept aside beside OUT
// (PipelineStepOutput, common/output_layout.h) and removed when the step reading it ends. The chain is journaled with its
// jobs (JobSpec.then, JobStatus.next_job_id/previous_job_id), so a restarted master goes on where
// it was; a step that fails, is killed or cannot be submitted ends the chain. Pure functions on
// specs and statuses (and PreparePipeline's checks of the output); thread-safe.
#pragma once

#include <set>
#include <string>

#include "master/admission.h"
#include "common/output_layout.h"
#include "master/output_committer.h"
#include "mr.pb.h"

namespace mr {

// A pipeline has at most this many steps after its first.
constexpr int kMaxPipelineSteps = 16;

// A pipeline's first step as submitted (its `then` steps without inputs or outputs of their own):
// checks every step (a known job, its arguments and files, at most kMaxPipelineSteps) and the
// final output (CheckNew, the path policy), then gives each step its output (the last: OUT; the
// others: PipelineStepOutput, replaced if a crash left one) and marks the later ones as reading
// the step before's. Their owner and sharing settings are the first step's.
Status PreparePipeline(proto::JobSpec* spec, const OutputCommitter& committer, const PathPolicy& policy = {});

// Whether the master still owes the chain the step after `s`: it succeeded, has steps left, and
// the next one was neither submitted nor refused.
bool AwaitsNextStep(const proto::JobStatus& s);

// The spec of the step after `done` (AwaitsNextStep): then(0), reading done's output, carrying
// the steps after it.
proto::JobSpec NextStepSpec(const proto::JobStatus& done);

// Adds to *keep the digests of the files (--files) the job may still need: its own while it is
// unfinished, its later steps' while the chain may go on.
void FilesStillNeeded(const proto::JobStatus& s, std::set<std::string>* keep);

}  // namespace mr
