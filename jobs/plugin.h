// Plugin jobs: a shared library built against mr/job_api.h that exports MR_PLUGIN(...), loaded on
// the workers with dlopen. A library is loaded once per process and never unloaded (its jobs'
// objects may outlive any one task). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "jobs/job.h"

namespace mr {

Result<std::unique_ptr<Job>> LoadPluginJob(const std::string& library, const JobArgs& args);

}  // namespace mr
