// The CLI's own documentation: `mr version`, `mr help JOB` (a built-in job's summary and its
// --arg keys with meaning and defaults, from jobs/job_args.h) and `mr jobs-available`.
// Thread-safety: call from one thread.
#pragma once

#include <string>

namespace mr {

// "mr 0.1.0 (wire protocol 1, plugin API 2)"
std::string VersionText();

// Prints the help of the built-in job `name` on stdout; false (nothing printed) when there is none.
bool PrintJobHelp(const std::string& name);

// `mr jobs-available`: the built-in jobs, one a line with their summary and argument keys, and the
// other kinds of jobs (streaming, plugins). Exit 0.
int CmdJobsAvailable();

}  // namespace mr
