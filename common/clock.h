// The wall clock as the protocol carries it: milliseconds since the Unix epoch (submit, start and
// end times, failure times, worker heartbeats). For durations use std::chrono::steady_clock.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace mr {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mr
