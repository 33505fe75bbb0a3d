// The framing between a worker and its task processes (proto/task_process.proto): a 4-byte
// big-endian length, then one serialized message, on a blocking descriptor.
// Thread-safety: a descriptor is written by one thread at a time, and read by one.
#pragma once

#include <google/protobuf/message_lite.h>

#include "common/status.h"

namespace mr {

// The largest message either side sends (a spill batch is at most ~1 MiB).
constexpr uint32_t kMaxTaskMessageBytes = 64u << 20;

// The descriptors a task process is handed, as it sees them: its socket to the worker (these
// messages), a reduce's merged input, and its progress page (worker/task_progress.h).
constexpr int kTaskControlFd = 3;
constexpr int kTaskInputFd = 4;
constexpr int kTaskProgressFd = 5;

Status WriteTaskMessage(int fd, const google::protobuf::MessageLite& message);
// NotFound at a clean end of the stream (the peer closed it between messages).
Status ReadTaskMessage(int fd, google::protobuf::MessageLite* message);

}  // namespace mr
