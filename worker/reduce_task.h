// RunReduceTask: one reduce attempt (DESIGN §3). Copies its partition of every map output from the
// shuffle servers that hold them into local run files (scratch_dir), merges the runs in key order
// with memory bounded by `merge_buffer_bytes` (not by the data), runs the job's reducer on each key
// and writes `key<TAB>value` lines to its attempt's file under OUT/_temporary
// (common/output_layout.h). The master later commits exactly one attempt's file.
// Thread-safety: call from one thread.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job.h"
#include "mr.pb.h"
#include "worker/counters.h"

namespace mr {

struct ReduceOptions {
  std::string scratch_dir;
  uint64_t merge_buffer_bytes = 64ull << 20;
  const std::atomic<bool>* cancel = nullptr;
  std::string token;  // the cluster token for fetches from shuffle servers ("" = none)
};

struct ReduceResult {
  CounterSet counters;
  std::string output_file;
};

// A fetch that failed names the map whose output could not be read (for the master to re-run it).
struct ReduceFailure {
  Status status;
  std::vector<uint32_t> failed_maps;
  std::vector<proto::MapOutputLocation> failed_fetches;  // where those fetches failed
};

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const Job& job,
                                   const ReduceOptions& options, ReduceFailure* failure);

}  // namespace mr
