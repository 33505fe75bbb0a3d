// FetchMapOutputs: a reduce attempt's copy phase. Copies its partition of every map output from
// the shuffle servers holding them into local run files, `parallel` map outputs at once (each
// fetch a stream of large chunks over its own connection), retrying each map kFetchTries times.
// The runs are returned in map order (empty outputs left out), so a merge that breaks ties by run
// keeps the values of a key in map order.
// Thread-safety: call from one thread; it starts and joins its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

struct FetchOptions {
  std::string scratch_dir;  // where the run files go
  std::string token;        // the cluster token ("" = none)
  int parallel = 4;
  const std::atomic<bool>* cancel = nullptr;
};

struct FetchedRuns {
  std::vector<std::string> runs;  // paths, in map order
  int64_t bytes = 0;
};

// On a failed fetch, *failed_maps names the map whose output could not be read.
Result<FetchedRuns> FetchMapOutputs(const proto::AssignTask& task, const FetchOptions& options,
                                    std::vector<uint32_t>* failed_maps);

}  // namespace mr
