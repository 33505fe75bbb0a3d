#include "master/pipeline.h"

#include <filesystem>
#include <fmt/format.h>

#include "common/job_files.h"
#include "jobs/job.h"

namespace mr {

namespace fs = std::filesystem;

Status PreparePipeline(proto::JobSpec* spec, const OutputCommitter& committer, const PathPolicy& policy) {
  if (spec->then_size() > kMaxPipelineSteps) {
    return Status::InvalidArgument(
        fmt::format("{} --then steps: a pipeline has at most {}", spec->then_size(), kMaxPipelineSteps));
  }
  const std::string output = spec->output();
  if (output.empty()) return Status::InvalidArgument("no output directory given");
  if (!fs::path(output).is_absolute()) return Status::InvalidArgument(fmt::format("--output {} is not absolute", output));
  MR_RETURN_IF_ERROR(committer.CheckNew(output, spec->overwrite()));
  for (int i = 0; i < spec->then_size(); i++) {
    proto::JobSpec& step = *spec->mutable_then(i);
    const std::string name = fmt::format("--then step {}", i + 1);
    if (step.inputs_size() > 0 || !step.output().empty() || step.then_size() > 0 || step.input_is_step()) {
      return Status::InvalidArgument(name + ": a step reads the output of the step before it and has no input, "
                                            "output or steps of its own");
    }
    if (step.job().empty() && !step.mapper().empty()) step.set_job("streaming");
    JobDefinition def{step.job(), JobArgs(step.args().begin(), step.args().end()), step.job_lib(), step.mapper(),
                      step.reducer(), step.combiner()};
    Status valid = ValidateJobDefinition(def);
    if (valid.ok() && step.files_size() > 0 && !def.user_code()) {
      valid = Status::InvalidArgument("--files are for streaming and plugin jobs");
    }
    if (valid.ok()) valid = CheckJobFiles(step.files(), /*have_bytes=*/true);
    if (!valid.ok()) return valid.WithMessage(fmt::format("{}: {}", name, valid.message()));
    const bool last = i + 1 == spec->then_size();
    step.set_output(last ? output : PipelineStepOutput(output, i + 2));
    step.set_overwrite(last ? spec->overwrite() : true);
    step.set_input_is_step(true);
    step.set_owner(spec->owner());
    step.set_pool(spec->pool());
    step.set_priority(spec->priority());
    step.set_max_slots(spec->max_slots());
  }
  // The final output, and the steps' outputs beside it, must be where the policy lets jobs write.
  proto::JobSpec first = *spec;
  first.set_output(PipelineStepOutput(output, 1));
  first.set_overwrite(true);
  MR_RETURN_IF_ERROR(CheckPathPolicy(*spec, std::vector<std::string>{}, policy));
  MR_RETURN_IF_ERROR(CheckPathPolicy(first, std::vector<std::string>{}, policy));
  *spec = std::move(first);
  return Status::OK();
}

bool AwaitsNextStep(const proto::JobStatus& s) {
  return s.state() == proto::JOB_SUCCEEDED && s.spec().then_size() > 0 && s.next_job_id() == 0 &&
         s.next_error().empty();
}

proto::JobSpec NextStepSpec(const proto::JobStatus& done) {
  proto::JobSpec next = done.spec().then(0);
  next.clear_inputs();
  next.add_inputs(done.spec().output());
  next.clear_then();
  for (int i = 1; i < done.spec().then_size(); i++) *next.add_then() = done.spec().then(i);
  return next;
}

void FilesStillNeeded(const proto::JobStatus& s, std::set<std::string>* keep) {
  const bool unfinished = s.end_time_ms() == 0;
  if (unfinished) {
    for (const proto::JobFile& f : s.spec().files()) keep->insert(f.sha256());
  }
  if (unfinished || AwaitsNextStep(s)) {
    for (const proto::JobSpec& step : s.spec().then()) {
      for (const proto::JobFile& f : step.files()) keep->insert(f.sha256());
    }
  }
}

}  // namespace mr
