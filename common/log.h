// Logging through spdlog: one line per event, to stderr and optionally to a file, with the
// process's name ("master", "worker w3", "mr"). Events carry their job/task/attempt/worker ids in
// the text ("job 3 map 12 attempt 2 on worker w1 failed: ...").
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/status.h"

namespace mr {

// Sets the default logger. level: trace, debug, info, warn, error, off. Lines go to stderr, and
// also to log_file (appended; created if missing) when it is not empty.
Status InitLogging(const std::string& process_name, const std::string& level = "info",
                   const std::string& log_file = "");

// Renames the process in the lines that follow (e.g. "worker w3" once a worker knows its id).
void SetLogName(const std::string& name);

}  // namespace mr
