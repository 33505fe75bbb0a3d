// Task processes (DESIGN §5): a job's own code (a plugin library, streaming commands) never runs
// inside the worker. Each attempt of such a job runs in a task process, `mr task-process`, that the
// worker starts and watches:
//  - a map attempt runs whole in it (reading its split, the job's mapper, combiner and partitioner,
//    sorting and spilling); its spills reach the worker's store through the worker, which ingests
//    each spill file and marks the output complete when the task process says so;
//  - a reduce attempt's fetch and merge stay in the worker (the cluster credential never leaves
//    it); the merged records are streamed to the task process, which runs the reducer and writes
//    the attempt's output file.
// The task process gets the worker's environment without credentials, its own process group (so a
// streaming command dies with it), and a data-memory limit (RLIMIT_DATA; cgroups are not used).
// The worker kills the group when the attempt is cancelled or shows no progress for the task
// timeout. A task process that crashes fails only its attempt, with one line saying how and, for
// a map, at which input record (worker/task_progress.h).
//
// Thread-safety: each function runs one attempt on the calling thread; several may run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "jobs/attempt_log.h"
#include "mr.pb.h"
#include "worker/counters.h"
#include "worker/intermediate_store.h"
#include "worker/run_merger.h"

namespace mr {

struct TaskProcessOptions {
  std::string program;  // the mr executable, run as `PROGRAM task-process ATTEMPT`
  int threads = 1;      // of a map attempt
  uint64_t buffer_bytes = 256ull << 20;
  std::string spill_dir;  // the store's spill directory (map attempts)
  uint64_t memory_limit = 0;  // bytes of data memory; 0 = none
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // without progress
  const std::atomic<bool>* cancel = nullptr;
  // The attempt's working directory, holding the files shipped with its job; empty: the worker's.
  std::string work_dir;
};

// "job-1/m3/a2": how the worker's and the task process's logs name an attempt.
std::string AttemptName(const proto::AssignTask& task);

// The default task memory limit of a worker with `slots` slots: this machine's memory divided by
// twice the slots (all tasks together leave half of it to the worker and the page cache), and at
// least 1 GiB.
uint64_t DefaultTaskMemory(int slots);

// Runs map attempt `task` in a task process; its output goes into `store`. `log` gets the task
// process's log lines and the user's stderr. When a plugin's code failed on one input record
// (died, threw, ran out of memory or stopped there), *bad_record is that record (else untouched).
Result<CounterSet> RunMapInTaskProcess(const proto::AssignTask& task, SpillStore* store,
                                       const TaskProcessOptions& options, AttemptLog* log,
                                       proto::SkippedRecord* bad_record);

// Streams `merged` to a task process that runs reduce attempt `task`'s reducer and writes
// `output_file` (a ReduceStep, worker/reduce_task.h).
Result<CounterSet> ReduceInTaskProcess(const proto::AssignTask& task, RunMerger& merged,
                                       const std::string& output_file, const TaskProcessOptions& options,
                                       AttemptLog* log);

// The task process's side: `mr task-process` runs this and exits with what it returns. It talks to
// its worker on descriptors 3 (control), 4 (a reduce's input) and 5 (its TaskProgress page).
int RunTaskProcessMain();

}  // namespace mr
