// RunReduceTask: one reduce attempt (DESIGN §3). Reads its partition of every map output from the
// shuffle servers that hold them and merges them in key order with a loser tree: up to the merge
// factor F (at most 128) map outputs are merged straight from the network (one stream each,
// received ahead of the merge on one event loop thread for all of them, all within 128 MiB); more are first copied
// into local run files (scratch_dir) and merged F at a time into intermediate runs until at most F
// are left for the final merge (worker/run_merger.h MergeToFactor), each pass with
// `merge_buffer_bytes` of read buffers. Memory is bounded by these constants and open files by
// F (plus a few), not by the data or the number of maps. It runs the job's reducer on each key and writes `key<TAB>value` lines
// (or raw records, Job::RawOutput) to its attempt's file under OUT/_temporary
// (common/output_layout.h). The master later commits exactly one attempt's file.
// Thread-safety: call from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job.h"
#include "mr.pb.h"
#include "worker/counters.h"
#include "worker/run_merger.h"
#include "worker/task_progress.h"

namespace mr {

class TlsContext;

struct ReduceOptions {
  std::string scratch_dir;
  uint64_t merge_buffer_bytes = 64ull << 20;
  const std::atomic<bool>* cancel = nullptr;
  std::shared_ptr<TlsContext> tls;  // for fetches from shuffle servers (common/tls.h)
  // F: the most map outputs or runs one merge reads at once; 0 = MergeFactorFor(0).
  int merge_factor = 0;
};

// The merge factor a reduce attempt uses: `configured` when it is positive (at least 2), else one
// sixteenth of this process's open-file limit (RLIMIT_NOFILE, soft), within [8, 128]: 64 at the
// common limit of 1024, so several reduce attempts, the map tasks and the store fit beside it.
int MergeFactorFor(int configured);

struct ReduceResult {
  CounterSet counters;
  std::string output_file;
};

// A fetch that failed names the map whose output could not be read (for the master to re-run it).
struct ReduceFailure {
  Status status;
  std::vector<uint32_t> failed_maps;
  std::vector<proto::MapOutputLocation> failed_fetches;  // where those fetches failed
  bool corrupt = false;  // what they got failed its check (common/block.h)
};

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const Job& job,
                                   const ReduceOptions& options, ReduceFailure* failure);

// What an attempt does with its merged input: runs the job's reducer over it and writes the
// attempt's output file; returns the reduce counters. In the worker (ReduceMerged), or in a task
// process the merged records are streamed to (worker/task_process.h).
using ReduceStep = std::function<Result<CounterSet>(RunMerger& merged, const std::string& output_file)>;
Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const ReduceStep& step,
                                   const ReduceOptions& options, ReduceFailure* failure);

// Runs the job's reducer on each key of `merged` and writes the output to `output_file`
// (key<TAB>value lines, or raw records). Counts groups, records and output; `slot`, when not null,
// ticks with every group.
Result<CounterSet> ReduceMerged(const proto::AssignTask& task, const Job& job, RunMerger& merged,
                                const std::string& output_file, const std::atomic<bool>* cancel,
                                ProgressSlot* slot);

}  // namespace mr
