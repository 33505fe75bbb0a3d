// JobFileCache: the files shipped with jobs (--files; common/job_files.h) on one worker. A file is
// fetched from the master once per digest (over the worker's own authenticated connection), checked
// against its digest, kept under DIR/<sha256> while a job of this worker may need it, and copied
// into each attempt's working directory under its name (a copy: what a task does to its files
// cannot reach the cache or another attempt).
// Thread-safety: thread-safe. Prepare blocks its caller (an executor thread) while a fetch is out;
// Deliver and FailPending are called from the worker's io thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

class JobFileCache {
 public:
  // Asks the master for a file's bytes; the answer comes back through Deliver (or FailPending).
  using Ask = std::function<void(uint64_t job, const std::string& sha256)>;
  // `dir` is made when needed; `ask` must not block.
  JobFileCache(std::string dir, Ask ask) : dir_(std::move(dir)), ask_(std::move(ask)) {}

  // Makes `work_dir` (which must not exist) holding the attempt's files under their names,
  // executable where the submitter's were. A file not cached is fetched; an attempt waits at most
  // `timeout` for it, and gives up when *cancel is set. Unavailable when the master did not answer
  // (the attempt is retried like any failed attempt).
  Status Prepare(const proto::AssignTask& task, const std::string& work_dir, std::chrono::milliseconds timeout,
                 const std::atomic<bool>* cancel);
  // The master's answer to an Ask: the bytes are kept if they match the digest.
  void Deliver(const proto::JobFileReply& reply);
  // The connection to the master is gone: every fetch under way fails.
  void FailPending(const std::string& why);
  // The job is over here: its files go, but for those another job of this worker still uses.
  void DropJob(uint64_t job);

 private:
  // A fetch under way: asked, then answered (OK: the file is in the cache).
  struct Fetch {
    std::optional<Status> result;
    int waiters = 0;
  };
  std::string PathOf(const std::string& sha256) const { return dir_ + "/" + sha256; }
  // The file is in the cache, fetched if need be. REQUIRES: mu_ not held.
  Status Ensure(uint64_t job, const proto::JobFile& f, std::chrono::steady_clock::time_point deadline,
                const std::atomic<bool>* cancel);

  const std::string dir_;
  const Ask ask_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Fetch> fetches_;           // by digest
  std::map<uint64_t, std::set<std::string>> used_;  // the digests each job used here
};

}  // namespace mr
