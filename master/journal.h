// Journal: the master's durable job table, in RocksDB under DIR/journal (DESIGN §2, §5). Every
// change of a job's state is written through before it is acted on; on start the master reads the
// jobs back and resumes the unfinished ones. Every write is synced (it survives a crash of the
// machine) before it returns OK. A write that fails (a full disk) returns IoError and leaves the
// journal as it was; the next write first reopens the database, so the journal works again once
// space is freed. Thread-safety: thread-safe (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mr.pb.h"

namespace rocksdb {
class DB;
class WriteBatch;
}

namespace mr {

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> Open(const std::string& dir);
  ~Journal();
  Status PutJob(const proto::JobStatus& job);
  Result<std::vector<proto::JobStatus>> LoadJobs();
  Result<std::vector<proto::TaskRecord>> LoadTasks(uint64_t job_id);
  // Drops a finished job's task records and split plan (its JobStatus keeps the totals).
  Status DropTasks(uint64_t job_id);
  // The split plan made when the job was submitted.
  Status PutPlan(uint64_t job_id, const proto::JobPlan& plan);
  // NotFound when the job has none (it finished, or was journaled before plans were kept).
  Result<proto::JobPlan> LoadPlan(uint64_t job_id);
  // What one event changed, as one atomic synced write (one sync, not one per record): the tasks,
  // the jobs, finished jobs' histories (job id, serialized proto JobHistory), attempt logs (job id, log with kind, index and attempt set; replacing an earlier
  // one of the attempt), and then the
  // task records and plans of `ended` jobs dropped (as DropTasks). All of it is journaled, or on an
  // error none of it.
  Status Commit(const std::vector<proto::TaskRecord>& tasks, const std::vector<proto::JobStatus>& jobs,
                const std::vector<std::pair<uint64_t, std::string>>& histories, const std::vector<uint64_t>& ended,
                const std::vector<std::pair<uint64_t, proto::AttemptLog>>& logs = {});
  // Job ids are never reused, across restarts too.
  Result<uint64_t> NextJobId();

  // History (DESIGN §7): a finished job's tasks and attempts, and the logs of its attempts, kept
  // until the retention forgets the job (DropJob).
  Status PutHistory(const proto::JobHistory& history);
  // NotFound when the job has none (unfinished, or finished before histories were kept).
  Result<proto::JobHistory> LoadHistory(uint64_t job_id);
  // The job's attempt logs, maps first, then by index and attempt.
  Result<std::vector<proto::AttemptLog>> LoadAttemptLogs(uint64_t job_id);
  // Forgets a job entirely: its status, tasks, plan, history and attempt logs.
  Status DropJob(uint64_t job_id);

  // Files shipped with jobs (--files), by the SHA-256 of their bytes: kept once however many jobs
  // ship them, until no unfinished job does (DropFilesExcept).
  Status PutFile(const std::string& sha256, const std::string& content);
  // NotFound when it is not kept.
  Result<std::string> LoadFile(const std::string& sha256);
  // Drops every kept file but those of `keep`.
  Status DropFilesExcept(const std::set<std::string>& keep);
  // The bytes of the kept files, and how many there are.
  uint64_t FileBytes();
  size_t FileCount();

 private:
  Journal() = default;
  // Applies `batch`, synced; on failure marks the database for reopening. REQUIRES: mu_ held.
  Status WriteLocked(rocksdb::WriteBatch* batch, const char* what);
  // Reopens the database after a failed write (RocksDB does not write to a log that failed).
  Status ReopenLocked();
  // Fills file_sizes_ (at Open).
  Status LoadFileSizes();

  std::mutex mu_;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  bool failed_ = false;  // a write failed: reopen before the next one
  uint64_t next_id_ = 0;
  // The kept files' sizes by digest, read at Open: which files are kept, and how many bytes, known
  // without reading their bytes.
  std::map<std::string, uint64_t> file_sizes_;
};

}  // namespace mr
