// Input listing and splitting (DESIGN §3). Inputs are files, directories (their files, recursively)
// or globs. Files and directories whose names start with '_' or '.' are skipped, so a job's output
// directory is a valid input. Each file is cut into splits of `split_size` bytes; the line reader
// (common/line_reader.h) makes the cuts line-exact. With fixed-length records (record_size > 0)
// the split size is rounded down to a whole number of records (at least one), so every split
// starts and ends on a record boundary. Empty files have no splits. A `.gz` file is one split (its
// whole compressed size), read decompressed by its map task. CombineSplits then packs the ranges
// shorter than a split (small files, file tails) into combined splits of up to `split_size` bytes
// and kMaxSplitParts ranges (Hadoop's CombineFileInputFormat), in input order, so many small files
// make few map tasks; a full-size range stays a split of its own.
// Pure functions over the filesystem; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr {

struct InputFile {
  std::string path;  // absolute
  uint64_t size = 0;
};

struct Split {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t file_size = 0;  // the whole file's size at submission
};

// One map task's input: one range, or several ranges read in order (a combined split).
using SplitGroup = std::vector<Split>;

// At most this many ranges in one combined split, so a task's message stays small and thousands
// of small files still spread over several map tasks.
constexpr size_t kMaxSplitParts = 1024;

// NotFound naming the first input that does not exist or matches nothing.
Result<std::vector<InputFile>> ExpandInputs(const std::vector<std::string>& inputs);
// REQUIRES: split_size > 0.
std::vector<Split> MakeSplits(const std::vector<InputFile>& files, uint64_t split_size,
                              uint32_t record_size = 0);
// REQUIRES: split_size > 0. Every range lands in exactly one group, in order.
std::vector<SplitGroup> CombineSplits(const std::vector<Split>& ranges, uint64_t split_size,
                                      size_t max_parts = kMaxSplitParts);
// InvalidArgument naming the first file whose size is not a whole number of records.
Status CheckWholeRecords(const std::vector<InputFile>& files, uint32_t record_size);

}  // namespace mr
