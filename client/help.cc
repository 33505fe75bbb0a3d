#include "client/help.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "common/frame.h"
#include "jobs/job.h"
#include "jobs/job_args.h"

#ifndef MR_VERSION
#define MR_VERSION "unknown"
#endif

namespace mr {

std::string VersionText() {
  return fmt::format("mr {} (wire protocol {}, plugin API {})", MR_VERSION, kProtocolVersion, 2);
}

bool PrintJobHelp(const std::string& name) {
  const JobInfo* info = DescribeJob(name);
  if (info == nullptr) return false;
  std::printf("job %s: %s\n", info->name.c_str(), info->summary.c_str());
  std::printf("output lines: %s\n\n", info->output.c_str());
  std::string example = fmt::format("mr run --job {} --input IN --output OUT", info->name);
  if (info->args.empty()) {
    std::printf("arguments: none\n");
  } else {
    size_t width = 0;
    for (auto& a : info->args) width = std::max(width, a.key.size());
    std::printf("arguments (--arg KEY=VALUE):\n");
    for (auto& a : info->args) {
      std::string when = a.required ? " (required)" : a.default_value.empty() ? "" : " (default " + a.default_value + ")";
      std::printf("  %-*s  %s%s\n", static_cast<int>(width), a.key.c_str(), a.meaning.c_str(), when.c_str());
      if (a.required) example += fmt::format(" --arg {}=...", a.key);
    }
  }
  std::printf("\nexample: %s\n", example.c_str());
  return true;
}

int CmdJobsAvailable() {
  std::vector<std::string> names = JobNames();
  size_t width = 0;
  for (auto& n : names) width = std::max(width, n.size());
  std::printf("built-in jobs (--job NAME):\n");
  for (auto& n : names) {
    const JobInfo* info = DescribeJob(n);
    std::string args;
    if (info != nullptr) {
      for (auto& a : info->args) args += (args.empty() ? "" : ", ") + a.key;
    }
    std::printf("  %-*s  %s%s\n", static_cast<int>(width), n.c_str(), info ? info->summary.c_str() : "",
                args.empty() ? "" : fmt::format(" [args: {}]", args).c_str());
  }
  std::printf(
      "\nmr help JOB lists a job's arguments. Your own code runs as a streaming job (--mapper CMD\n"
      "[--reducer CMD] [--combiner CMD]) or as a plugin (--job-lib LIB.so, see jobs/public/mr/job_api.h).\n");
  return 0;
}

}  // namespace mr
