#include "common/job_state.h"

namespace mr {

std::string JobStateName(proto::JobState state) {
  switch (state) {
    case proto::JOB_QUEUED: return "queued";
    case proto::JOB_RUNNING: return "running";
    case proto::JOB_SUCCEEDED: return "succeeded";
    case proto::JOB_FAILED: return "failed";
    case proto::JOB_KILLED: return "killed";
    default: return "unknown";
  }
}

const char* TaskKindName(proto::TaskKind kind) { return kind == proto::TASK_MAP ? "map" : "reduce"; }

bool Finished(proto::JobState state) {
  return state == proto::JOB_SUCCEEDED || state == proto::JOB_FAILED || state == proto::JOB_KILLED;
}

}  // namespace mr
