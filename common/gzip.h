// Reading gzip-compressed input files (DESIGN §3: `.gz` files are read whole, one split each), so
// rotated web logs (access.log.2.gz) can be given to a job as they are.
// Pure functions over the filesystem; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace mr {

// Whether an input is read as gzip: its name ends in ".gz".
bool IsGzipPath(std::string_view path);

// The whole decompressed content of a gzip file; concatenated members (as `cat a.gz b.gz` makes)
// are read one after the other. IoError naming the file when it cannot be read, is not gzip, or is
// truncated or corrupt.
Result<std::string> ReadGzipFile(const std::string& path);

}  // namespace mr
