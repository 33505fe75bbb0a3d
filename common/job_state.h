// Job states and task kinds as users see them: the one place their names are spelt, shared by
// the client, the master's HTTP API, metrics and logs. Pure functions; thread-safe.
#pragma once

#include <string>

#include "mr.pb.h"

namespace mr {

// "queued", "running", "succeeded", "failed", "killed" — as users see job states everywhere.
std::string JobStateName(proto::JobState state);
// "map" or "reduce".
const char* TaskKindName(proto::TaskKind kind);
// True once a job has ended (succeeded, failed or killed): its state never changes again.
bool Finished(proto::JobState state);

}  // namespace mr
