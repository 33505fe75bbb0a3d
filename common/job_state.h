// Job states, task kinds and priorities as users see them: the one place their names are spelt, shared by
// the client, the master's HTTP API, metrics and logs. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

#include "mr.pb.h"

namespace mr {

// "queued", "running", "succeeded", "failed", "killed" — as users see job states everywhere.
std::string JobStateName(proto::JobState state);
// "map" or "reduce".
const char* TaskKindName(proto::TaskKind kind);
// True once a job has ended (succeeded, failed or killed): its state never changes again.
bool Finished(proto::JobState state);
// "high", "normal", "low" (--priority); ParsePriority: the reverse, InvalidArgument otherwise.
const char* PriorityName(proto::Priority p);
Result<proto::Priority> ParsePriority(std::string_view text);

}  // namespace mr
