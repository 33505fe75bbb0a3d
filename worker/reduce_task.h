// RunReduceTask: one reduce attempt (DESIGN §3). Reads its partition of every map output from the
// shuffle servers that hold them and merges them in key order with a loser tree: up to 128 map
// outputs are merged straight from the network (one stream each, received ahead of the merge by
// a thread per stream, all within 128 MiB); more are first copied into local run files
// (scratch_dir) and merged with `merge_buffer_bytes` of read buffers. Memory is bounded by these
// constants, not by the data. It runs the job's reducer on each key and writes `key<TAB>value` lines
// (or raw records, Job::RawOutput) to its attempt's file under OUT/_temporary
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
