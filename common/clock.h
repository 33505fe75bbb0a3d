// The wall clock as the protocol carries it: milliseconds since the Unix epoch (submit, start and
// end times, failure times). For durations use std::chrono::steady_clock; for a "now" that must
// stay monotonic and be driven by tests (the master's), EpochClock in common/timer_source.h, with
// the timers that go with it. Thread-safe.
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
