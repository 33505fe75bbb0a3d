// A job's output directory (DESIGN §3), in one place for the master, which commits and previews it,
// the workers, which write it, and the client, which reads it (mr cat, mr report, the first lines
// shown after a job):
//   OUT/part-r-00007                                   a committed reduce task's output
//   OUT/_temporary/job-1-r-00007-a2/part-r-00007       what attempt 2 of that task writes
//   OUT/part-m-00003                                   a map-only job's map 3 (and its attempts'
//   OUT/_temporary/job-1-m-00003-a0/part-m-00003       files, as a reduce's)
//   OUT/_skipped/map-00003                             the bad input records map 3 skipped
//                                                      (--skip-bad-records), whole, written at commit
//   OUT/_SUCCESS                                       written last, when every task committed
// Thread-safe; the readers do file I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr {

inline constexpr char kSuccessFileName[] = "_SUCCESS";
inline constexpr char kTemporaryDirName[] = "_temporary";
inline constexpr char kSkippedDirName[] = "_skipped";

// "_skipped/map-00003": where the records map 3 skipped are kept, relative to OUT.
std::string SkippedFileName(uint32_t map);

// Which tasks write a job's parts: its reduces, or the maps of a map-only job.
enum class PartKind { kReduce, kMap };

// "part-r-00007" ("part-m-00007")
std::string PartFileName(uint32_t task, PartKind kind = PartKind::kReduce);
// OUT/_temporary
std::string TemporaryDir(const std::string& output);
// "job-1-r-00007-a2" ("job-1-m-..."): one attempt's directory under OUT/_temporary.
std::string AttemptDirName(uint64_t job, uint32_t task, uint32_t attempt, PartKind kind = PartKind::kReduce);
// OUT/_temporary/job-1-r-00007-a2/part-r-00007
std::string AttemptOutputFile(const std::string& output, uint64_t job, uint32_t task, uint32_t attempt,
                              PartKind kind = PartKind::kReduce);

// The task of a part file's name ("part-r-00007" and "part-m-00007" -> 7); -1 when it is not one.
// `kind`, when given, is set to which it is.
int64_t PartitionOfFile(const std::string& name, PartKind* kind = nullptr);

// Where step `step` (1-based, not the last) of a pipeline writing `output` keeps its output for
// the next step (master/pipeline.h): beside OUT, hidden (/data/.top.step-1 for /data/top).
std::string PipelineStepOutput(const std::string& output, int step);

// The part files of `dir` (part-r-00000, part-r-00001, ..., or a map-only job's part-m-00000, ...)
// in task order, a map-only job's parts first. NotFound when
// `dir` is not a directory; Unavailable when it has no _SUCCESS (the job has not finished, or
// failed) unless `partial`.
Result<std::vector<std::string>> ListOutputParts(const std::string& dir, bool partial);

// The first lines of a job's output, its parts in order: at most max_lines lines and about
// max_bytes bytes; a line longer than max_line is cut (and ends with "..."). Lines are as written
// (no newline). The output need not be finished.
Result<std::vector<std::string>> ReadOutputHead(const std::string& dir, size_t max_lines, size_t max_bytes,
                                                size_t max_line);

}  // namespace mr
