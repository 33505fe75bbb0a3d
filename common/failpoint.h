// Failpoints (DESIGN §5): named points in master, worker and shuffle code where a fault can be
// injected at run time. Configured from the environment:
//
//   MR_FAILPOINTS='map.after_spill=crash@0.2;shuffle.serve=delay(500ms);reduce.start=2*error'
//   MR_FAILPOINTS_SEED=42
//
// Each entry is NAME=[COUNT*]ACTION[@PROBABILITY]; NAME must be one of kFailpointNames
// (common/failpoints.h), anything else is an error:
//   crash        exit status 137 at once, like SIGKILL (no destructors, no flush, no exit checks)
//   hang         block forever (the process stops making progress but stays alive)
//   delay(D)     sleep for DURATION D (500ms, 2s)
//   error        the point returns an error Status (the operation fails cleanly)
//   exhausted    the point returns the error of a process out of descriptors (EMFILE: a
//                kResourceExhausted Status, which the master holds back while no other worker is free)
//   off          disabled
// PROBABILITY (0..1, default 1) is drawn from a generator seeded by MR_FAILPOINTS_SEED (default 0)
// and the point's name, so a run is reproducible; COUNT limits how many times the action fires.
//
// Cost when no failpoint is configured: one relaxed atomic load per point.
// Thread-safety: Evaluate may be called from any thread; Configure only at start-up or in tests.
#pragma once

#include <atomic>
#include <span>
#include <string>
#include <string_view>

#include "common/failpoints.h"
#include "common/status.h"

namespace mr {

namespace failpoint_internal {
extern std::atomic<bool> g_enabled;
Status Evaluate(std::string_view name);
// Not constexpr: calling it from FailpointName's constructor makes an unknown name a compile error.
void UnknownFailpointName();
}  // namespace failpoint_internal

// The name of a declared failpoint. Built from a string literal, it is checked at compile time
// against kFailpointNames, so a misspelt point does not compile.
class FailpointName {
 public:
  consteval FailpointName(const char* name) : name_(name) {  // NOLINT: implicit on purpose
    if (!IsKnownFailpoint(name_)) failpoint_internal::UnknownFailpointName();
  }
  // For tests of the mechanism itself, with names of their own.
  static FailpointName Unchecked(std::string_view name) { return FailpointName(name, 0); }
  std::string_view view() const { return name_; }

 private:
  FailpointName(std::string_view name, int) : name_(name) {}
  std::string_view name_;
};

// Parses a configuration like MR_FAILPOINTS; InvalidArgument names the bad entry, and an unknown
// point's error lists the known ones. `known` is kFailpointNames except in tests.
Status ConfigureFailpoints(const std::string& spec, uint64_t seed,
                           std::span<const std::string_view> known = kFailpointNames);
// Reads MR_FAILPOINTS and MR_FAILPOINTS_SEED.
Status ConfigureFailpointsFromEnv();

// Evaluates the failpoint `name`: OK, or the injected error.
inline Status Failpoint(FailpointName name) {
  if (!failpoint_internal::g_enabled.load(std::memory_order_relaxed)) return Status::OK();
  return failpoint_internal::Evaluate(name.view());
}

}  // namespace mr

// In a function returning Status or Result<T>: returns the injected error, if any.
#define MR_FAILPOINT(name) MR_RETURN_IF_ERROR(::mr::Failpoint(name))
