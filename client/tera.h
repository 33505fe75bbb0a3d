// `mr teragen` and `mr teravalidate` (DESIGN §2, §4).
//  - teragen writes a row-range file to a temporary directory and runs the `teragen` job on a
//    local cluster started for it (as `mr run` does): P parts of about ROWS/P rows each.
//  - teravalidate reads a sorted output (every file of DIR not starting with '_' or '.', in name
//    order: part-r-00000, ...) in this process: every file a whole number of 100-byte records,
//    keys (first 10 bytes, unsigned) in order within and across files, the sum of the records'
//    CRC32s; with inputs, the same record count and sum as theirs. Exit 0 only when all hold;
//    otherwise the first problem (the first misordered record) is printed.
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/run.h"
#include "common/status.h"

namespace mr {

struct TeraGenOptions {
  std::string rows;  // a count (digits, or with k/m/g: thousands, millions, billions)
  std::string dir;
  bool ascii = false;
  int parts = 0;     // 0: 2 per worker
  RunOptions run;    // workers, slots, logs, token
};
int CmdTeraGen(const TeraGenOptions& o);

struct TeraSummary {
  uint64_t records = 0;
  uint64_t checksum = 0;  // sum of the records' CRC32s, mod 2^64
  std::string problem;    // the first problem found; empty when none
};
// Checks the order and computes the sum of `files` taken as one sequence of records. `check_order`
// false only sums. IoError when a file cannot be read.
Result<TeraSummary> ScanTeraFiles(const std::vector<std::string>& files, bool check_order);

struct TeraValidateOptions {
  std::string dir;
  std::vector<std::string> inputs;  // optional: the records that were sorted
  bool json = false;
};
int CmdTeraValidate(const TeraValidateOptions& o);

}  // namespace mr
