// A job's output directory (DESIGN §3), in one place for the master, which commits and previews it,
// the workers, which write it, and the client, which reads it (mr cat, mr report, the first lines
// shown after a job):
//   OUT/part-r-00007                                   a committed reduce task's output
//   OUT/_temporary/job-1-r-00007-a2/part-r-00007       what attempt 2 of that task writes
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

// "part-r-00007"
std::string PartFileName(uint32_t partition);
// OUT/_temporary
std::string TemporaryDir(const std::string& output);
// "job-1-r-00007-a2": one reduce attempt's directory under OUT/_temporary.
std::string AttemptDirName(uint64_t job, uint32_t partition, uint32_t attempt);
// OUT/_temporary/job-1-r-00007-a2/part-r-00007
std::string AttemptOutputFile(const std::string& output, uint64_t job, uint32_t partition, uint32_t attempt);

// The partition of a part file's name ("part-r-00007" -> 7); -1 when it is not one.
int64_t PartitionOfFile(const std::string& name);

// The part files of `dir` (part-r-00000, part-r-00001, ...) in partition order. NotFound when
// `dir` is not a directory; Unavailable when it has no _SUCCESS (the job has not finished, or
// failed) unless `partial`.
Result<std::vector<std::string>> ListOutputParts(const std::string& dir, bool partial);

// The first lines of a job's output, its parts in order: at most max_lines lines and about
// max_bytes bytes; a line longer than max_line is cut (and ends with "..."). Lines are as written
// (no newline). The output need not be finished.
Result<std::vector<std::string>> ReadOutputHead(const std::string& dir, size_t max_lines, size_t max_bytes,
                                                size_t max_line);

}  // namespace mr
