// The JSON shape of one job (docs/observability.md, JOB), built in one place for every printer:
// `mr status --json` and `mr jobs --json` on the client, /api/jobs and /api/jobs/ID on the master
// (which adds the live `running` task counts only it knows). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <nlohmann/json.hpp>

#include "mr.pb.h"

namespace mr {

// id, job, state, maps and reduces ({done, total}), progress, the spec (inputs, output, reducers,
// split_size, args), input_bytes, error, the times, elapsed_ms (until now_ms while it runs),
// input_bytes_per_s, counters, failed_attempts ({kind, index, attempt, worker, error, time_ms,
// lost}).
nlohmann::json JobStatusJson(const proto::JobStatus& s, int64_t now_ms);

// The text of `j` (indent < 0: one line). Strings hold bytes from the wire (paths, error texts) that
// need not be UTF-8: each invalid byte becomes U+FFFD, so the text is always valid JSON.
std::string JsonText(const nlohmann::json& j, int indent = -1);

}  // namespace mr
