// A job's output as the client shows it (the directory itself, and reading its parts:
// common/output_layout.h): `mr cat`, and the first lines `mr run`, `mr wait` and
// `mr submit --wait` show after a job. The directory must be readable from this machine (local or shared storage).
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr {

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
