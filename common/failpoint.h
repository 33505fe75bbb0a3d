// Failpoints (DESIGN §5): named points in master, worker and shuffle code where a fault can be
// injected at run time. Configured from the environment:
//
//   MR_FAILPOINTS='map.after_spill=crash@0.2;shuffle.serve=delay(500ms);reduce.start=2*error'
//   MR_FAILPOINTS_SEED=42
//
// Each entry is NAME=[COUNT*]ACTION[@PROBABILITY]:
//   crash        _exit(137) at once, like SIGKILL (no destructors, no flush)
//   hang         block forever (the process stops making progress but stays alive)
//   delay(D)     sleep for DURATION D (500ms, 2s)
//   error        the point returns an error Status (the operation fails cleanly)
//   off          disabled
// PROBABILITY (0..1, default 1) is drawn from a generator seeded by MR_FAILPOINTS_SEED (default 0)
// and the point's name, so a run is reproducible; COUNT limits how many times the action fires.
//
// Cost when no failpoint is configured: one relaxed atomic load per point.
// Thread-safety: Evaluate may be called from any thread; Configure only at start-up or in tests.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mr {

namespace failpoint_internal {
extern std::atomic<bool> g_enabled;
Status Evaluate(std::string_view name);
}  // namespace failpoint_internal

// Parses a configuration like MR_FAILPOINTS; InvalidArgument names the bad entry.
Status ConfigureFailpoints(const std::string& spec, uint64_t seed);
// Reads MR_FAILPOINTS and MR_FAILPOINTS_SEED.
Status ConfigureFailpointsFromEnv();

// Evaluates the failpoint `name`: OK, or the injected error.
inline Status Failpoint(std::string_view name) {
  if (!failpoint_internal::g_enabled.load(std::memory_order_relaxed)) return Status::OK();
  return failpoint_internal::Evaluate(name);
}

}  // namespace mr

// In a function returning Status or Result<T>: returns the injected error, if any.
#define MR_FAILPOINT(name) MR_RETURN_IF_ERROR(::mr::Failpoint(name))
