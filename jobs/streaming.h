// Streaming jobs (Hadoop Streaming semantics): the mapper and reducer are shell commands
// (`/bin/sh -c CMD`). The mapper gets the split's lines on stdin and writes `key<TAB>value` lines
// to stdout (a line without a tab is a key with an empty value). The reducer gets its partition's
// `key<TAB>value` lines on stdin, sorted by key, and writes output lines the same way; without a
// reducer command the records pass through unchanged. An optional combiner command works like the
// reducer on each map-side spill (one process per spill), its output sorted again before
// spilling. One mapper process per map thread and input file (a combined split's next file gets a
// new one), one reducer process per reduce task; each gets Hadoop's job variables in its
// environment (jobs/streaming_env.h).
// A command that exits non-zero, is killed by a signal, or writes a line longer than 64 MiB fails
// the attempt with the command, its exit status and the tail of its stderr. Its stderr lines
// `reporter:counter:GROUP,NAME,AMOUNT` add to the job counter GROUP.NAME (at most 1000 names per
// command, or the attempt fails), and `reporter:status:MESSAGE` lines go to the attempt's log as
// its status; both count as progress for --task-timeout. The rest of stderr goes to the attempt's
// log (`mr logs`) when there is one.
// The mapper is a BlamingMapper (jobs/job.h): when the job skips bad records, it keeps what it fed
// its current command and traces a failure to one record by bisection.
#pragma once

#include <memory>
#include <string>

#include "jobs/job.h"

namespace mr {

// From def's commands, its args (the job's configuration: -D properties and --cmdenv, exported to
// the commands), the attempt it runs for (def.task), its log and progress callback.
Result<std::unique_ptr<Job>> MakeStreamingJob(const JobDefinition& def);

}  // namespace mr
