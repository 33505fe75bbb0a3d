#include "common/output_layout.h"

#include <fmt/format.h>

namespace mr {

std::string PartFileName(uint32_t partition) { return fmt::format("part-r-{:05}", partition); }

std::string TemporaryDir(const std::string& output) { return output + "/" + kTemporaryDirName; }

std::string AttemptDirName(uint64_t job, uint32_t partition, uint32_t attempt) {
  return fmt::format("job-{}-r-{:05}-a{}", job, partition, attempt);
}

std::string AttemptOutputFile(const std::string& output, uint64_t job, uint32_t partition, uint32_t attempt) {
  return fmt::format("{}/{}/{}", TemporaryDir(output), AttemptDirName(job, partition, attempt),
                     PartFileName(partition));
}

}  // namespace mr
