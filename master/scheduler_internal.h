// Helpers shared by the Scheduler's implementation files (scheduler*.cc); not part of its interface.
#pragma once

#include "common/job_state.h"
#include "mr.pb.h"

namespace mr::scheduler_internal {

inline bool Finished(const proto::JobStatus& s) { return mr::Finished(s.state()); }
inline const char* TaskStateText(bool done, bool running) { return done ? "done" : running ? "running" : "idle"; }

}  // namespace mr::scheduler_internal
