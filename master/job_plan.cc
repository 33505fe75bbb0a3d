#include "master/job_plan.h"

#include <fmt/format.h>

#include "jobs/job.h"
#include "jobs/job_args.h"

namespace mr {

Result<std::vector<Split>> PlanJob(proto::JobSpec* spec, const std::vector<InputFile>& files) {
  JobDefinition def{spec->job(), JobArgs(spec->args().begin(), spec->args().end()), spec->job_lib(),
                    spec->mapper(), spec->reducer(), spec->combiner()};
  std::unique_ptr<Job> job;
  if (!def.user_code()) {
    auto made = MakeJob(def);
    if (!made.ok()) return made.status();
    job = std::move(*made);
    if (spec->input_format().empty()) spec->set_input_format(job->InputFormat());
    if (const JobInfo* info = DescribeJob(spec->job()); info != nullptr && info->map_only) {
      spec->set_map_only(true);
      spec->set_reducers(0);
    }
  }
  if (spec->input_format().empty()) spec->set_input_format("lines");
  auto record_size = ParseInputFormat(spec->input_format());
  if (!record_size.ok()) return record_size.status();
  MR_RETURN_IF_ERROR(CheckWholeRecords(files, *record_size));
  std::vector<Split> splits = MakeSplits(files, spec->split_size(), *record_size);
  if (job == nullptr) return splits;

  std::vector<InputSplitInfo> infos;
  infos.reserve(splits.size());
  for (const Split& s : splits) infos.push_back({s.path, s.offset, s.length});
  JobArgs extra;
  std::string error;
  if (!job->Plan(infos, spec->reducers(), &extra, &error)) {
    return Status::InvalidArgument(error.empty() ? fmt::format("job {} refused its input", spec->job()) : error);
  }
  for (auto& [k, v] : extra) (*spec->mutable_args())[k] = v;
  return splits;
}

}  // namespace mr
