#include "common/job_state.h"

#include <fmt/format.h>

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

const char* PriorityName(proto::Priority p) {
  switch (p) {
    case proto::PRIORITY_HIGH: return "high";
    case proto::PRIORITY_LOW: return "low";
    default: return "normal";
  }
}

Result<proto::Priority> ParsePriority(std::string_view text) {
  for (proto::Priority p : {proto::PRIORITY_HIGH, proto::PRIORITY_NORMAL, proto::PRIORITY_LOW}) {
    if (text == PriorityName(p)) return p;
  }
  return Status::InvalidArgument(fmt::format("--priority must be high, normal or low, not '{}'", text.substr(0, 80)));
}

}  // namespace mr
