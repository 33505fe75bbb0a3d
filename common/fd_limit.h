// The open-files limit (RLIMIT_NOFILE). Every mr process raises its soft limit to the hard limit at
// start (the common default of 1024 is far below what a master with many connections or a reducer
// merging many map outputs needs; the hard limit is what the administrator allows), and master and
// worker log the result. Servers budget their connections against SoftFdLimit (common/channel.h).
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace mr {

struct FdLimit {
  uint64_t before = 0;  // the soft limit the process started with
  uint64_t soft = 0;    // the soft limit now
  uint64_t hard = 0;
};

// Raises the soft limit to the hard one (as far as the kernel allows: nr_open) and returns what it
// found and set. A failure leaves the limit as it was.
FdLimit RaiseFdLimit();
// The soft limit now.
uint64_t SoftFdLimit();
// "open files: limit 1048576 (raised from 1024; hard limit 1048576)", for a start-up log line.
std::string FdLimitText();

}  // namespace mr
