// A job's output directory as the client reads it (layout: common/output_layout.h): its part files
// in partition order, `mr cat`, and the first lines `mr run`, `mr wait` and `mr submit --wait`
// show after a job. The directory must be readable from this machine (local or shared storage).
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr {

// The part files of `dir` (part-r-00000, part-r-00001, ...) in partition order. NotFound when
// `dir` is not a directory; Unavailable when it has no _SUCCESS (the job has not finished, or
// failed) unless `partial`.
Result<std::vector<std::string>> ListOutputParts(const std::string& dir, bool partial);

struct CatOptions {
  std::string output;
  int64_t head = -1;    // lines to print; -1 = all
  bool partial = false; // read a directory without _SUCCESS
};
// `mr cat`: the parts' bytes, unchanged, in key order on stdout. Exit 0, 1 (unreadable, or no
// _SUCCESS without --partial) or 2 (bad usage).
int CmdCat(const CatOptions& o);

// Prints the first `lines` lines of the job output in `dir` on `out`, indented, with control bytes
// shown as '.' and long lines cut, and how to see the rest; nothing when lines is 0.
void PrintOutputPreview(const std::string& dir, int lines, FILE* out);

}  // namespace mr
