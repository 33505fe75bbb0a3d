// OutputCommitter: the master's side of the output commit protocol (DESIGN §3), in one place.
// Reduce attempts (and a map-only job's map attempts) write OUT/_temporary/<attempt>/part-r-NNNNN
// (part-m-NNNNN; common/output_layout.h); exactly one attempt of each task is committed by renaming
// its file into place; _SUCCESS is written
// after the last one; _temporary is removed when the job ends. Nothing else ever appears in OUT.
// All I/O goes through the FileSystem it is given (an in-memory one in tests).
// Thread-safety: as the FileSystem; the master uses it from its control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/output_layout.h"
#include "common/status.h"

namespace mr {

// A commit the scheduler asks for (master/scheduler.h Effects.commits) and the master carries out
// with Commit, reporting the result back (Scheduler::OnCommitted): one reduce attempt's file (a
// map-only job's: one map attempt's) into place, or, without a partition, the job's _SUCCESS.
// A bad input record a map skipped (--skip-bad-records): copied whole into OUT/_skipped/ when the
// job commits, so nothing is lost silently.
struct SkippedInput {
  uint32_t map = 0;
  std::string path;          // the input file (.gz: read uncompressed)
  uint64_t offset = 0;       // where the record starts
  uint32_t record_size = 0;  // fixed-size records; 0: a line, up to and with its newline
};

struct CommitRequest {
  uint64_t job_id = 0;
  std::string output;
  std::optional<uint32_t> partition;  // the task (a reduce, or a map-only job's map); none: the whole job
  uint32_t attempt = 0;               // the attempt whose file is committed
  std::vector<SkippedInput> skipped;  // the whole job: written before _SUCCESS
  PartKind kind = PartKind::kReduce;  // which tasks' parts: reduces', or a map-only job's maps'
};

// A job that starts (Effects.setups): its output is prepared with Setup and the result reported
// back (Scheduler::OnOutputSetUp); none of its tasks runs before.
struct SetupRequest {
  uint64_t job_id = 0;
  std::string output;
  bool overwrite = false;
};

// What a restarted master finds of a running job's output (OutputCommitter::Resume), for
// Scheduler::Restore: whether OUT/_temporary is there again, and which tasks' files are in place
// (by task index: the reduces', or a map-only job's maps'; one journaled as done whose file is
// missing runs again).
struct ResumedOutput {
  Status status;
  std::vector<bool> committed;
};

// At a job's end: OUT/_temporary goes; for a job that did not succeed (`discard`), the whole output
// too, so the path is as it was before the job (what a failed or killed job committed is no
// result, and an empty directory would only block the next submission).
struct CleanupRequest {
  std::string output;
  bool discard = false;
  bool operator==(const CleanupRequest&) const = default;
};

class OutputCommitter {
 public:
  // fs: not owned; must outlive the committer.
  explicit OutputCommitter(FileSystem* fs) : fs_(fs) {}

  // At submission: AlreadyExists when the output exists and may not be replaced. With overwrite,
  // only an mr output may be replaced (IsOutput): anything else there is refused, so --overwrite
  // never destroys a data dir or a user's files.
  Status CheckNew(const std::string& output, bool overwrite) const;
  // Whether `dir` holds nothing but what a job writes: part files, _SUCCESS, and _temporary with
  // attempts' directories and part files (an empty directory too). Why not, otherwise.
  Status IsOutput(const std::string& dir) const;
  // At the job's start: removes an output it may replace (checked again: it may have changed
  // since the submission), and creates OUT/_temporary.
  Status Setup(const std::string& output, bool overwrite) const;
  // After a master restart, for a running job whose `tasks` tasks write parts of `kind`:
  // OUT/_temporary exists again, and which of them are committed.
  ResumedOutput Resume(const std::string& output, uint32_t tasks, PartKind kind = PartKind::kReduce) const;
  // Renames one attempt's file into place. `attempt_file` comes from a worker: it must be that
  // task's file inside OUT/_temporary (InvalidArgument otherwise).
  Status CommitTask(const std::string& output, uint32_t partition, const std::string& attempt_file,
                    PartKind kind = PartKind::kReduce) const;
  // Whether a task's committed file is in place.
  bool IsCommitted(const std::string& output, uint32_t partition, PartKind kind = PartKind::kReduce) const;
  // Writes the skipped records (OUT/_skipped/map-NNNNN), then _SUCCESS, after every task committed.
  Status CommitJob(const std::string& output, const std::vector<SkippedInput>& skipped = {}) const;
  // Carries out a CommitRequest: CommitTask with the attempt's file where the layout puts it
  // (common/output_layout.h), or CommitJob.
  Status Commit(const CommitRequest& request) const;
  // Removes OUT/_temporary (the job ended, however); a late attempt then cannot write there. It is
  // renamed out of the way first (OUT/_temporary.removing), so an attempt creating its directory at
  // that moment cannot make the removal fail (rmdir: not empty) and leave it in the output.
  Status Cleanup(const std::string& output) const;
  // Cleanup, then, when the output holds nothing but what a job writes (IsOutput), removes it.
  Status Discard(const std::string& output) const;
  // Carries out a CleanupRequest: Discard or Cleanup.
  Status Clean(const CleanupRequest& request) const;

 private:
  FileSystem* fs_;
};

}  // namespace mr
