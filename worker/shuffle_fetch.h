// How a reduce attempt gets its map outputs (DESIGN §3, §5). Map output arrives as blocks
// (common/block.h); every block is checked here, and one that fails its check fails the fetch
// (the failure says so: the output is corrupt where it is stored, or was damaged on the way).
// FetchMapOutputs: a reduce attempt's copy phase. Copies its partition of every map output from
// the shuffle servers holding them into local run files (the blocks as they came, checked),
// `parallel` map outputs at once (each
// fetch a stream of large chunks over its own connection), retrying each map kFetchTries times
// (but not one whose bytes failed their check).
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

#include <optional>

#include "common/asio.h"
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
  int64_t bytes = 0;              // as fetched (blocks)
  int64_t raw_bytes = 0;          // of the records they hold
};

// The map outputs of a reduce assignment, one location per map in map order (the assignment lists
// them grouped by shuffle server, proto MapOutputGroup). Protocol error for a malformed group.
Result<std::vector<proto::MapOutputLocation>> MapOutputsOf(const proto::AssignTask& task);
// The number of map outputs a reduce assignment lists.
size_t MapOutputCount(const proto::AssignTask& task);

// Fetches `task`'s partition of each output in `outputs` (MapOutputsOf(task)). On a failed fetch,
// *failed_maps names the map whose output could not be read, and *corrupt says whether its last
// try got bytes that failed their check.
Result<FetchedRuns> FetchMapOutputs(const proto::AssignTask& task, const std::vector<proto::MapOutputLocation>& outputs,
                                    const FetchOptions& options, std::vector<uint32_t>* failed_maps, bool* corrupt);

// One map output's partition streamed from its shuffle server while a merge reads it: the chunks
// arrive ahead of the merge, at most kStreamAhead of them (the next is asked for when there is
// room), so the copy overlaps the merge. Memory: about kStreamAhead + 1 chunks, and one decoded
// block. Made and driven by FetchStreams; Next() is for one thread (the merge).
class FetchStream {
 public:
  static constexpr size_t kStreamAhead = 2;
  // Replaces *chunk with the records of the next block (checked and decompressed); false at the
  // end. Corruption when a block fails its check or the server found its copy corrupt.
  Result<bool> Next(std::string* chunk);
  uint64_t bytes() const { return bytes_; }          // as received (blocks)
  uint64_t raw_bytes() const { return raw_bytes_; }  // of the records handed out
  uint32_t map_index() const { return loc_.map_index(); }
  const std::string& address() const { return loc_.address(); }

 private:
  friend class FetchStreams;
  FetchStream(class FetchStreams* owner, proto::MapOutputLocation loc) : owner_(owner), loc_(std::move(loc)) {}
  FetchStreams* owner_;
  proto::MapOutputLocation loc_;
  // The event loop's: the connection, and whether the next chunk waits for room.
  std::shared_ptr<class Channel> channel_;
  bool next_pending_ = false;
  int tries_ = 0;
  // Shared with the merge thread, guarded by the owner's mutex.
  std::deque<std::string> ready_;
  bool opened_ = false;  // connected and asked, or failed for good
  bool ended_ = false;   // the last chunk is in ready_, or status_ failed
  Status status_;
  std::atomic<uint64_t> bytes_{0};
  // The merge thread's: the chunk being decoded, and what of it is left.
  std::string current_;
  std::string_view left_;
  uint64_t raw_bytes_ = 0;
};

// The streams of one reduce attempt, all on one event loop thread of their own (however many map
// outputs the attempt merges at once). Open() connects to every location at once (each retried
// kFetchTries times, with backoff) and asks for its partition.
// Thread-safety: Open and the destructor from one thread; each stream's Next from the merge
// thread.
class FetchStreams {
 public:
  explicit FetchStreams(std::shared_ptr<TlsContext> tls);
  // Closes every connection and joins the event loop's thread.
  ~FetchStreams();
  FetchStreams(const FetchStreams&) = delete;
  FetchStreams& operator=(const FetchStreams&) = delete;

  // One stream per location of `task` (chunks of about chunk_bytes); returns once every stream is
  // open or has failed: the status of each, in the order of `locations`.
  std::vector<Status> Open(const proto::AssignTask& task, const std::vector<proto::MapOutputLocation>& locations,
                           uint64_t chunk_bytes);
  FetchStream& stream(size_t i) { return *streams_[i]; }
  size_t size() const { return streams_.size(); }

 private:
  friend class FetchStream;
  void Connect(FetchStream* s);  // event loop
  void OnChunk(FetchStream* s, proto::Envelope& m);
  void End(FetchStream* s, Status status);
  void SendNext(FetchStream* s);

  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<asio::io_context> io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  proto::Envelope request_;  // the FetchRequest, with map, attempt and address filled per stream
  std::vector<std::unique_ptr<FetchStream>> streams_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace mr
