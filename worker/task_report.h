// Bounds on a worker's report of an attempt (proto::TaskReport), so that every report fits in a
// frame (common/frame.h) whatever the job's code did: a report that cannot be framed would close
// the worker's connection, lose its running attempts and, re-run, do the same again.
//
// BoundTaskReport caps, in place: the error (kReportErrorBytes, the head), the attempt log and the
// user's stderr (kAttemptLogBytes each, the tail), the counters (at most kReportCounters, names of
// at most kReportCounterNameBytes; the built-in ones are kept first, then the others in name
// order; the number dropped is reported as counter::kReportCountersDropped), and the failed
// fetches (kReportFailedFetches each list). If the report is still over max_bytes, the biggest
// fields go: log and stderr, the user's counters, the fetch lists, the error (kept to its first
// 256 bytes). It returns what it cut, as one line ("" when nothing), which the caller also puts in
// the report's log so that `mr logs` says so. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/frame.h"
#include "mr.pb.h"

namespace mr {

constexpr size_t kReportErrorBytes = 4096;
constexpr size_t kReportCounters = 1000;
constexpr size_t kReportCounterNameBytes = 256;
constexpr size_t kReportFailedFetches = 10000;
// Half a frame: the rest of the envelope is small, and a report never comes near the limit.
constexpr size_t kMaxReportBytes = kDefaultMaxFrame / 2;

std::string BoundTaskReport(proto::TaskReport* report, size_t max_bytes = kMaxReportBytes);

}  // namespace mr
