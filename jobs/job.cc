#include "jobs/job.h"

#include <unistd.h>

#include <charconv>
#include <exception>
#include <new>
#include <fmt/format.h>

#include "jobs/grep.h"
#include "jobs/invertedindex.h"
#include "jobs/key_fields.h"
#include "jobs/logs.h"
#include "jobs/teragen.h"
#include "jobs/terasort.h"
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
      {"teragen", MakeTeraGen},
      {"terasort", MakeTeraSort},
      {"topn", MakeTopN},
      {"weblog", MakeWeblog},
      {"wordcount", MakeWordCount},
  };
  return registry;
}

}  // namespace

Result<std::unique_ptr<Job>> MakeJob(const JobDefinition& def) {
  if (!def.library.empty()) return LoadPluginJob(def.library, def.args);
  if (!def.mapper.empty()) return MakeStreamingJob(def);
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
  if (!def.mapper.empty()) return ParseKeySpec(def.args).status();
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

Result<uint32_t> ParseInputFormat(std::string_view format) {
  if (format.empty() || format == "lines") return 0u;
  constexpr std::string_view kRecords = "records:";
  if (format.substr(0, kRecords.size()) == kRecords) {
    std::string_view n = format.substr(kRecords.size());
    uint32_t size = 0;
    auto r = std::from_chars(n.data(), n.data() + n.size(), size);
    if (r.ec == std::errc() && r.ptr == n.data() + n.size() && size >= 1 && size <= (1u << 20)) return size;
  }
  return Status::InvalidArgument(fmt::format(
      "input format '{}': want lines or records:N (N bytes per record, 1 to 1048576)", format));
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

void AppendEscapedName(std::string_view name, std::string* out) {
  for (char c : name) {
    switch (c) {
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\\': out->append("\\\\"); break;
      default: out->push_back(c);
    }
  }
}

Status CatchJobExceptions(const std::function<Status()>& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(kJobOutOfMemory);
  } catch (const std::exception& e) {
    return Status::Aborted(fmt::format("{}: {}", kJobThrew, e.what()));
  } catch (...) {
    return Status::Aborted(fmt::format("{} that is not a std::exception", kJobThrew));
  }
}

}  // namespace mr
