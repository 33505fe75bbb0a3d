#include "jobs/job.h"

#include <unistd.h>

#include <fmt/format.h>

#include "jobs/grep.h"
#include "jobs/invertedindex.h"
#include "jobs/logs.h"
#include "jobs/topn.h"
#include "jobs/weblog.h"
#include "jobs/plugin.h"
#include "jobs/streaming.h"
#include "jobs/wordcount.h"

namespace mr {
namespace {

const std::map<std::string, JobFactory>& Registry() {
  static const std::map<std::string, JobFactory> registry = {
      {"grep", MakeGrep},
      {"invertedindex", MakeInvertedIndex},
      {"logs", MakeLogs},
      {"topn", MakeTopN},
      {"weblog", MakeWeblog},
      {"wordcount", MakeWordCount},
  };
  return registry;
}

}  // namespace

Result<std::unique_ptr<Job>> MakeJob(const JobDefinition& def) {
  if (!def.library.empty()) return LoadPluginJob(def.library, def.args);
  if (!def.mapper.empty()) return MakeStreamingJob(def.mapper, def.reducer, def.combiner, def.args);
  return MakeJob(def.name, def.args);
}

Status ValidateJobDefinition(const JobDefinition& def) {
  if (!def.library.empty() && !def.mapper.empty()) {
    return Status::InvalidArgument("--job-lib and --mapper cannot be used together");
  }
  if (!def.library.empty()) {
    if (::access(def.library.c_str(), R_OK) != 0) {
      return Status::NotFound(fmt::format("job library {} cannot be read", def.library));
    }
    return Status::OK();
  }
  if ((!def.reducer.empty() || !def.combiner.empty()) && def.mapper.empty()) {
    return Status::InvalidArgument("--reducer and --combiner need --mapper");
  }
  if (!def.mapper.empty()) return Status::OK();
  auto job = MakeJob(def.name, def.args);
  return job.ok() ? Status::OK() : job.status();
}

Result<std::unique_ptr<Job>> MakeJob(const std::string& name, const JobArgs& args) {
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    return Status::NotFound(fmt::format("unknown job '{}' (known jobs: {})", name,
                                        fmt::join(JobNames(), ", ")));
  }
  return it->second(args);
}

std::vector<std::string> JobNames() {
  std::vector<std::string> names;
  for (auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

Result<bool> GetBoolArg(const JobArgs& args, const std::string& key, bool default_value) {
  auto it = args.find(key);
  if (it == args.end()) return default_value;
  if (it->second == "true" || it->second == "1" || it->second == "yes") return true;
  if (it->second == "false" || it->second == "0" || it->second == "no") return false;
  return Status::InvalidArgument(fmt::format("--arg {}={}: want true or false", key, it->second));
}

Status CheckKnownArgs(const std::string& job, const JobArgs& args,
                      const std::vector<std::string>& known) {
  for (auto& [key, value] : args) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Status::InvalidArgument(fmt::format("job {} has no argument '{}' (it takes: {})", job,
                                                 key, known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
  }
  return Status::OK();
}

}  // namespace mr
