// The engine's side of the job API: the registry of built-in jobs and how a task's job is made —
// a built-in job by name, a plugin from its shared library, or a streaming job from commands.
// The API itself (Mapper, Reducer, Job, ...) is the public header mr/job_api.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "jobs/attempt_log.h"
#include "mr/job_api.h"

namespace mr {

using JobFactory = std::function<Result<std::unique_ptr<Job>>(const JobArgs& args)>;

// Creates the built-in job named `name`, validating `args`. NotFound for an unknown name (the
// message lists the known jobs); InvalidArgument for bad arguments.
Result<std::unique_ptr<Job>> MakeJob(const std::string& name, const JobArgs& args);

// The attempt a job is made for, as a streaming command is told of it (Hadoop's job variables,
// jobs/streaming_env.h).
struct TaskIdentity {
  uint64_t job_id = 0;
  bool map = true;
  uint32_t index = 0;
  uint32_t attempt = 1;     // counted from 1
  uint32_t reducers = 1;
  // A map's input: its file range, or a combined split's parts in order.
  std::vector<InputSplitInfo> inputs;
};

// What a task's job is made from: a built-in job by name, a plugin (library), or streaming
// commands (mapper, optional reducer).
struct JobDefinition {
  std::string name;
  JobArgs args;
  std::string library;
  std::string mapper;
  std::string reducer;
  std::string combiner;
  // Where the user's code writes stderr (streaming commands), or null. Not owned; outlives the job.
  AttemptLog* log = nullptr;
  // The attempt the job runs for; null outside a task (the master's checks). Not owned.
  const TaskIdentity* task = nullptr;
  // Called from any thread when the user's code says it is alive without moving through its
  // input (a streaming command's reporter:status line): progress for --task-timeout. May be empty.
  std::function<void()> progress = nullptr;
  bool user_code() const { return !library.empty() || !mapper.empty(); }
};
// Makes the job, loading a plugin or preparing streaming commands as needed.
Result<std::unique_ptr<Job>> MakeJob(const JobDefinition& def);
// Runs `fn` (the job's own code, or engine code that calls it): a C++ exception escaping it becomes
// an error rather than the end of the process. std::bad_alloc gives ResourceExhausted with the
// message kJobOutOfMemory; any other exception Aborted, starting with kJobThrew.
Status CatchJobExceptions(const std::function<Status()>& fn);
inline constexpr char kJobOutOfMemory[] = "the job's code ran out of memory (std::bad_alloc)";
inline constexpr char kJobThrew[] = "the job's code threw an exception";

// A mapper whose failure can come long after the record that caused it (a streaming command reads
// ahead and buffers): when the job skips bad records, the engine asks it to keep what it is fed,
// and after a failure to trace the failure to one record. Engine-internal (streaming jobs); the
// engine finds it with dynamic_cast. Called from the mapper's own thread.
class BlamingMapper {
 public:
  // Where a record came from, as InputRecord says.
  struct Record {
    std::string file;
    uint64_t offset = 0;
  };
  virtual ~BlamingMapper() = default;
  // Before the first Map: keep every record fed from now on (their bytes are held in memory).
  virtual void KeepRecords() = 0;
  // After the mapper failed: the one record its code fails on by itself, found by re-running the
  // code on halves of the kept records (tick() is called as that makes progress); nullopt when
  // the failure is not the mapper's own, or no single record reproduces it.
  virtual std::optional<Record> Blame(const std::function<void()>& tick) = 0;
};

// Checks a definition without running user code (the master does this at submit time): a
// built-in job and its arguments, a readable plugin library, a non-empty mapper command.
Status ValidateJobDefinition(const JobDefinition& def);
std::vector<std::string> JobNames();

// An input format: "lines" (or empty) gives 0; "records:N" gives N, 1 <= N <= 1 MiB.
// InvalidArgument, naming the accepted forms, otherwise.
Result<uint32_t> ParseInputFormat(std::string_view format);

// Reads a boolean job argument ("true"/"false"/"1"/"0"); InvalidArgument otherwise.
Result<bool> GetBoolArg(const JobArgs& args, const std::string& key, bool default_value);
// Fails with InvalidArgument naming the first argument not in `known`.
Status CheckKnownArgs(const std::string& job, const JobArgs& args, const std::vector<std::string>& known);

// Appends an input file name as it appears in a job's text output (DESIGN §3): TAB, LF and
// backslash escaped as \t, \n and \\, so a name can never break a key<TAB>value line.
void AppendEscapedName(std::string_view name, std::string* out);

}  // namespace mr
