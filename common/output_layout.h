// The names of a job's output directory (DESIGN §3), in one place for the master, which commits,
// and the workers, which write:
//   OUT/part-r-00007                                   a committed reduce task's output
//   OUT/_temporary/job-1-r-00007-a2/part-r-00007       what attempt 2 of that task writes
//   OUT/_SUCCESS                                       written last, when every task committed
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace mr {

inline constexpr char kSuccessFileName[] = "_SUCCESS";
inline constexpr char kTemporaryDirName[] = "_temporary";

// "part-r-00007"
std::string PartFileName(uint32_t partition);
// OUT/_temporary
std::string TemporaryDir(const std::string& output);
// "job-1-r-00007-a2": one reduce attempt's directory under OUT/_temporary.
std::string AttemptDirName(uint64_t job, uint32_t partition, uint32_t attempt);
// OUT/_temporary/job-1-r-00007-a2/part-r-00007
std::string AttemptOutputFile(const std::string& output, uint64_t job, uint32_t partition, uint32_t attempt);

}  // namespace mr
