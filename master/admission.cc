#include "master/admission.h"

#include <algorithm>
#include <filesystem>
#include <fmt/ranges.h>
#include <fmt/format.h>
#include <vector>

#include "common/units.h"
#include "jobs/job.h"
#include "common/inputs.h"
#include "common/job_files.h"
#include "master/job_plan.h"
#include "master/pools.h"

namespace mr {

namespace fs = std::filesystem;

namespace {

bool Inside(const fs::path& p, const fs::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && !rel.native().starts_with("..");
}

fs::path Resolved(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal() : p;
}

bool UnderAny(const fs::path& p, const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    if (Inside(p, Resolved(d))) return true;
  }
  return false;
}

Status CheckAbsolute(const char* flag, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return Status::OK();
  return Status::InvalidArgument(fmt::format(
      "{} {} is a relative path: a client sends absolute ones (mr resolves them in its own directory)", flag, path));
}

}  // namespace

Status CheckPathPolicy(const proto::JobSpec& spec, const std::vector<std::string>& files, const PathPolicy& policy) {
  if (!policy.allow_input.empty()) {
    for (const std::string& f : files) {
      fs::path p = Resolved(f);
      if (!UnderAny(p, policy.allow_input)) {
        return Status::PermissionDenied(fmt::format(
            "input {} is outside the directories this master lets jobs read (--allow-input {})",
            f == p.string() ? f : fmt::format("{} (that is {})", f, p.string()), fmt::join(policy.allow_input, ", ")));
      }
    }
  }
  fs::path out = Resolved(spec.output());
  if (!policy.allow_output.empty() && !UnderAny(out, policy.allow_output)) {
    return Status::PermissionDenied(fmt::format(
        "output {} is outside the directories this master lets jobs write (--allow-output {})", spec.output(),
        fmt::join(policy.allow_output, ", ")));
  }
  for (const std::string& d : policy.protected_dirs) {
    fs::path dir = Resolved(d);
    if (Inside(out, dir) || Inside(dir, out)) {
      return Status::PermissionDenied(fmt::format("output {} would {} the master's data directory {}", spec.output(),
                                                  Inside(out, dir) ? "be inside" : "hold", d));
    }
  }
  return Status::OK();
}

Status CheckPathPolicy(const proto::JobSpec& spec, const proto::JobPlan& plan, const PathPolicy& policy) {
  std::vector<std::string> files;
  for (const proto::InputSplit& s : plan.splits()) {
    if (!s.path().empty()) files.push_back(s.path());
    for (const proto::InputSplit& part : s.parts()) files.push_back(part.path());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return CheckPathPolicy(spec, files, policy);
}

namespace {

// A map-only job's spec names no reduce-side work: what it names would silently not happen.
Status CheckMapOnly(const proto::JobSpec& spec) {
  if (spec.reducers() != 0) {
    return Status::InvalidArgument(fmt::format("a map-only job has no reducers, not {}", spec.reducers()));
  }
  if (!spec.reducer().empty()) {
    return Status::InvalidArgument("a map-only job (--reducers 0) runs no --reducer: drop one or the other");
  }
  if (!spec.combiner().empty()) {
    return Status::InvalidArgument("a map-only job (--reducers 0) runs no --combiner: drop one or the other");
  }
  return Status::OK();
}

}  // namespace

Result<AdmittedJob> AdmitJob(proto::JobSpec spec, const OutputCommitter& committer, const PathPolicy& policy) {
  if (spec.job().empty() && !spec.mapper().empty()) spec.set_job("streaming");
  if (spec.output().empty()) return Status::InvalidArgument("no output directory given");
  MR_RETURN_IF_ERROR(CheckAbsolute("--job-lib", spec.job_lib()));
  MR_RETURN_IF_ERROR(CheckAbsolute("--output", spec.output()));
  for (const std::string& in : spec.inputs()) MR_RETURN_IF_ERROR(CheckAbsolute("--input", in));
  JobDefinition def{spec.job(), JobArgs(spec.args().begin(), spec.args().end()), spec.job_lib(), spec.mapper(),
                    spec.reducer(), spec.combiner()};
  MR_RETURN_IF_ERROR(ValidateJobDefinition(def));
  if (spec.files_size() > 0 && !def.user_code()) {
    return Status::InvalidArgument("--files are for streaming and plugin jobs: a built-in job reads no side files");
  }
  // A later pipeline step's files were checked, and their bytes journaled, with its first step.
  MR_RETURN_IF_ERROR(CheckJobFiles(spec.files(), /*have_bytes=*/!spec.input_is_step()));
  if (spec.map_only()) {
    MR_RETURN_IF_ERROR(CheckMapOnly(spec));
  } else if (spec.reducers() == 0) {
    spec.set_reducers(1);
  }
  if (spec.reducers() > kMaxReducers) {
    return Status::InvalidArgument(
        fmt::format("--reducers {} is too many: at most {}", spec.reducers(), kMaxReducers));
  }
  if (spec.split_size() == 0) spec.set_split_size(kDefaultSplitSize);
  if (spec.split_size() < kMinSplitSize) return Status::InvalidArgument("--split-size must be at least 4k");
  if (!spec.pool().empty()) MR_RETURN_IF_ERROR(CheckPoolName(spec.pool()));
  spec.set_pool(PoolOf(spec));
  if (!proto::Priority_IsValid(spec.priority())) return Status::InvalidArgument("--priority must be high, normal or low");
  auto files = ExpandInputs({spec.inputs().begin(), spec.inputs().end()});
  if (!files.ok()) return files.status();
  auto splits = PlanJob(&spec, *files);
  if (!splits.ok()) return splits.status();
  {
    std::vector<std::string> paths;
    for (const InputFile& f : *files) paths.push_back(f.path);
    MR_RETURN_IF_ERROR(CheckPathPolicy(spec, paths, policy));
  }
  // The output is replaced when the job starts: never when that would destroy an input.
  const fs::path out = spec.output();
  auto inside = Inside;
  std::vector<fs::path> inputs;
  for (const std::string& in : spec.inputs()) inputs.push_back(fs::path(in));
  for (const InputFile& f : *files) inputs.push_back(fs::path(f.path));
  for (const fs::path& in : inputs) {
    if (inside(in, out) || inside(out, in)) {
      return Status::InvalidArgument(fmt::format("output {} {} input {}: choose another output", out.string(),
                                                 out == in ? "is the" : inside(in, out) ? "contains the" : "lies inside the",
                                                 in.string()));
    }
  }

  MR_RETURN_IF_ERROR(committer.CheckNew(spec.output(), spec.overwrite()));

  AdmittedJob job;
  for (const InputFile& f : *files) job.input_bytes += f.size;
  job.input_files = files->size();
  auto groups = CombineSplits(*splits, spec.split_size());
  if (groups.size() > kMaxMapTasks) {
    return Status::InvalidArgument(fmt::format(
        "the input makes {} map tasks, more than the {} a job may have: raise --split-size (now {})",
        groups.size(), kMaxMapTasks, FormatBytes(spec.split_size())));
  }
  auto fill = [](proto::InputSplit* p, const Split& s) {
    p->set_path(s.path);
    p->set_offset(s.offset);
    p->set_length(s.length);
    p->set_file_size(s.file_size);
  };
  for (const SplitGroup& g : groups) {
    proto::InputSplit* split = job.plan.add_splits();
    if (g.size() == 1) {
      fill(split, g[0]);
    } else {
      for (const Split& s : g) fill(split->add_parts(), s);
    }
  }
  job.spec = std::move(spec);
  return job;
}

}  // namespace mr
