// Logging through spdlog: one line per event, to stderr, with the process's name
// ("master", "worker w-3", "mr"). Events carry their job/task/attempt/worker ids in the text.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/status.h"

namespace mr {

// Sets the default logger. level: trace, debug, info, warn, error, off.
Status InitLogging(const std::string& process_name, const std::string& level = "info");

}  // namespace mr
