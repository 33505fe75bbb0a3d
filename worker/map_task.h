// RunMapTask: one map attempt (DESIGN §3). Reads the split's owned lines from a memory-mapped file
// on `threads` threads (a combined split: its parts in order, each part with its own line
// ownership, whole parts spread over the threads; only the bytes a file had at submission), runs the job's mapper, combines (natively for sum combiners, else by
// sorting and calling the job's combiner), partitions with the job's partitioner or the stable
// hash, sorts and spills into the IntermediateStore. Memory is bounded by `buffer_bytes` (shared by
// the threads): a thread spills whenever its share fills up. The output is visible to the shuffle
// server only when the whole attempt succeeded (MarkMapOutputComplete). A map-only job's map
// (task.reducers() == 0) uses no store: it writes its attempt's part file under
// task.output_dir() (common/output_layout.h) as the mapper emits, for the master to commit.
// Thread-safety: call from one thread; it starts and joins its own threads.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/status.h"
#include "jobs/job.h"
#include "mr.pb.h"
#include "worker/counters.h"
#include "worker/intermediate_store.h"
#include "worker/task_progress.h"

namespace mr {

struct MapOptions {
  int threads = 1;
  uint64_t buffer_bytes = 256ull << 20;
  const std::atomic<bool>* cancel = nullptr;  // set to abandon the attempt
  // In a task process: where each thread shows the record it is on (worker/task_progress.h).
  TaskProgress* progress = nullptr;
  // Set, when the attempt failed and the job skips bad records, to the record a mapper that reads
  // ahead (streaming) traced its failure to (jobs/job.h, BlamingMapper); description left empty.
  proto::SkippedRecord* bad_record = nullptr;
};

Result<CounterSet> RunMapTask(const proto::AssignTask& task, const Job& job,
                              SpillStore* store, const MapOptions& options);

}  // namespace mr
