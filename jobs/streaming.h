// Streaming jobs (Hadoop Streaming semantics): the mapper and reducer are shell commands
// (`/bin/sh -c CMD`). The mapper gets the split's lines on stdin and writes `key<TAB>value` lines
// to stdout (a line without a tab is a key with an empty value). The reducer gets its partition's
// `key<TAB>value` lines on stdin, sorted by key, and writes output lines the same way; without a
// reducer command the records pass through unchanged. An optional combiner command works like the
// reducer on each map-side spill (one process per spill), its output sorted again before spilling. A command that exits non-zero, is killed by
// a signal, or writes a line longer than 64 MiB fails the attempt with the command, its exit
// status and the tail of its stderr. One process per map thread and per reduce task. Everything the
// commands write to stderr also goes to `log` (the attempt's log, for `mr logs`) when it is set.
// The mapper is a BlamingMapper (jobs/job.h): when the job skips bad records, it keeps what it fed
// its command and traces a failure to one record by bisection.
#pragma once

#include <memory>
#include <string>

#include "jobs/job.h"

namespace mr {

Result<std::unique_ptr<Job>> MakeStreamingJob(const std::string& mapper, const std::string& reducer,
                                              const std::string& combiner, const JobArgs& args,
                                              AttemptLog* log = nullptr);

}  // namespace mr
