// The list of every failpoint (DESIGN §5): the one place a point is declared. Failpoint() accepts
// only these names (checked at compile time) and MR_FAILPOINTS rejects any other. A new point is
// added here, in the README's list, and, where a test crashes at it, in tests/fault_test.cc.
// Constant data; thread-safe.
#pragma once

#include <algorithm>
#include <string_view>

namespace mr {

inline constexpr std::string_view kFailpointNames[] = {
    "map.start",             // worker/map_task.cc: a map attempt begins, before reading its split
    "map.after_read",        // worker/map_task.cc: the whole split is read and mapped
    "map.before_spill",      // worker/map_output.cc: a sorted buffer is about to be written to disk
    "map.after_spill",       // worker/map_output.cc: a spill file has been written
    "map.before_report",     // worker/worker.cc: a map attempt succeeded, before it is reported
    "shuffle.serve",         // worker/shuffle_server.cc: before each chunk sent to a reducer
    "shuffle.corrupt",       // worker/shuffle_server.cc: when it fails, a chunk is sent with one bit flipped
    "reduce.start",          // worker/reduce_task.cc: a reduce attempt begins, before fetching
    "reduce.after_fetch",    // worker/reduce_task.cc: all map outputs are fetched, before merging
    "reduce.before_commit",  // worker/worker.cc: a reduce attempt succeeded, before it is reported
    "master.after_assign",   // master/master.cc: a task assignment was sent to a worker
    "master.after_journal",  // master/master.cc: a batch of state changes was journaled
    "master.after_commit",   // master/output_committer.cc: a reduce output was renamed into place
};

constexpr bool IsKnownFailpoint(std::string_view name) {
  return std::find(std::begin(kFailpointNames), std::end(kFailpointNames), name) !=
         std::end(kFailpointNames);
}

}  // namespace mr
