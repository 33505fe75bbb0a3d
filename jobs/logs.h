// logs (DESIGN §4): web access log analytics over Common/Combined Log Format lines (jobs/log_line.h).
// Arguments: by=status|path|host|method|hour|day (default status), metric=requests|bytes (default
// requests). Output: KEY<TAB>N where KEY is the STATUS digits, the request PATH (query string
// included), the HOST, the METHOD, the UTC hour "YYYY-MM-DDTHH" or the UTC day "YYYY-MM-DD", and N
// the number of requests or the sum of BYTES ("-" counts 0) of the lines with that key.
// A line that is not a log line is skipped and counted in the user counter `logs.malformed`.
// Combines with the engine's native sum combiner.
#pragma once

#include "jobs/job.h"

namespace mr {

inline constexpr const char* kLogsMalformedCounter = "logs.malformed";

Result<std::unique_ptr<Job>> MakeLogs(const JobArgs& args);

}  // namespace mr
