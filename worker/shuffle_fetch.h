// FetchMapOutputs: a reduce attempt's copy phase. Copies its partition of every map output from
// the shuffle servers holding them into local run files, `parallel` map outputs at once (each
// fetch a stream of large chunks over its own connection), retrying each map kFetchTries times.
// Each of the `parallel` threads keeps at most a few connections open (to the hosts it fetched
// from last), so open files do not grow with the size of the cluster.
// The runs are returned in map order (empty outputs left out), so a merge that breaks ties by run
// keeps the values of a key in map order.
// Thread-safety: call from one thread; it starts and joins its own threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

class TlsContext;

struct FetchOptions {
  std::string scratch_dir;  // where the run files go
  std::shared_ptr<TlsContext> tls;  // the process's (common/tls.h)
  int parallel = 4;
  const std::atomic<bool>* cancel = nullptr;
};

struct FetchedRuns {
  std::vector<std::string> runs;  // paths, in map order
  int64_t bytes = 0;
};

// The map outputs of a reduce assignment, one location per map in map order (the assignment lists
// them grouped by shuffle server, proto MapOutputGroup). Protocol error for a malformed group.
Result<std::vector<proto::MapOutputLocation>> MapOutputsOf(const proto::AssignTask& task);
// The number of map outputs a reduce assignment lists.
size_t MapOutputCount(const proto::AssignTask& task);

// Fetches `task`'s partition of each output in `outputs` (MapOutputsOf(task)). On a failed fetch,
// *failed_maps names the map whose output could not be read.
Result<FetchedRuns> FetchMapOutputs(const proto::AssignTask& task, const std::vector<proto::MapOutputLocation>& outputs,
                                    const FetchOptions& options, std::vector<uint32_t>* failed_maps);

// One map output's partition streamed from its shuffle server while a merge reads it. A thread of
// its own receives the chunks ahead of the merge, at most kStreamAhead of them, so the copy overlaps
// the merge. Memory: about kStreamAhead + 1 chunks. Next() is for one thread (the merge).
class FetchStream {
 public:
  static constexpr size_t kStreamAhead = 2;
  // Connects (retrying kFetchTries times), asks for the stream and starts receiving.
  static Result<std::unique_ptr<FetchStream>> Open(const proto::AssignTask& task,
                                                   const proto::MapOutputLocation& loc,
                                                   const std::shared_ptr<TlsContext>& tls, uint64_t chunk_bytes);
  // Stops the receiving thread (shutting the connection down) and joins it.
  ~FetchStream();
  // Replaces *chunk with the next chunk of records; false at the end.
  Result<bool> Next(std::string* chunk);
  uint64_t bytes() const { return bytes_; }
  uint32_t map_index() const { return map_index_; }
  const std::string& address() const { return address_; }

 private:
  FetchStream() = default;
  void ReceiveLoop();
  std::unique_ptr<class SyncClient> client_;
  uint32_t map_index_ = 0;
  std::string address_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> ready_;  // guarded by mu_
  bool ended_ = false;             // guarded by mu_: the last chunk is in ready_, or status_ failed
  bool stop_ = false;              // guarded by mu_
  Status status_;                  // guarded by mu_
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace mr
