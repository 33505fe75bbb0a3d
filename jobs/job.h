// The job API: what a MapReduce job supplies to the engine. Built-in jobs implement it; later, user
// plugins will too, so it is small and stable.
//
// Lifecycle: the engine creates a Job with MakeJob(name, args), which validates the arguments
// (on the master at submit time, and again in each task). For every map thread it calls
// NewMapper(), for every reduce task NewReducer(); those objects are used by one thread only.
// A Job itself is immutable after creation and may be shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mr {

using JobArgs = std::map<std::string, std::string>;

// Receives (key, value) pairs from a mapper, combiner or reducer. The views need only live for the
// duration of the call.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void Emit(std::string_view key, std::string_view value) = 0;
};

// User-visible counters, summed over successful attempts by the master.
class Counters {
 public:
  virtual ~Counters() = default;
  virtual void Add(std::string_view name, int64_t delta) = 0;
};

// One input line and where it came from (the split reader's line ownership rule applies).
struct InputRecord {
  std::string_view file;  // the input file's path
  uint64_t offset = 0;    // byte offset of the line in the file
  std::string_view line;  // without '\n' (and without a trailing '\r')
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  virtual void Map(const InputRecord& record, Emitter& out) = 0;
  // Called once after the last Map() of this mapper (Hadoop's cleanup()): for in-mapper combining.
  virtual void Finish(Emitter& out) {}
};

// The values of one key, in a deterministic order (by map task, then emission order).
class ValueIterator {
 public:
  virtual ~ValueIterator() = default;
  virtual bool Next(std::string_view* value) = 0;
};

// Used both as reducer and as combiner. A combiner must emit under the key it was given.
class Reducer {
 public:
  virtual ~Reducer() = default;
  virtual void Reduce(std::string_view key, ValueIterator& values, Emitter& out) = 0;
  // Called once after the last Reduce() of a reduce task (not of a combiner).
  virtual void Finish(Emitter& out) {}
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  // REQUIRES: reducers > 0. Returns a value < reducers.
  virtual uint32_t Partition(std::string_view key, uint32_t reducers) const = 0;
};

struct TaskContext {
  const JobArgs* args = nullptr;
  uint32_t reducers = 1;
  Counters* counters = nullptr;  // owned by the engine; for this thread only
};

class Job {
 public:
  virtual ~Job() = default;
  virtual std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const = 0;
  virtual std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const = 0;
  // Optional combiner run on map output before it is spilled; nullptr for none.
  virtual std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const { return nullptr; }
  // True when the combiner is "sum the decimal integer values" (Hadoop's LongSumReducer): the
  // engine then combines natively in a hash table instead of calling NewCombiner.
  virtual bool SumCombiner() const { return false; }
  // Optional partitioner; nullptr means the stable hash (common/hash.h).
  virtual std::unique_ptr<Partitioner> NewPartitioner() const { return nullptr; }
};

using JobFactory = std::function<Result<std::unique_ptr<Job>>(const JobArgs& args)>;

// Creates the job named `name`, validating `args`. NotFound for an unknown name (the message lists
// the known jobs); InvalidArgument for bad arguments.
Result<std::unique_ptr<Job>> MakeJob(const std::string& name, const JobArgs& args);
std::vector<std::string> JobNames();

// Reads a boolean job argument ("true"/"false"/"1"/"0"); InvalidArgument otherwise.
Result<bool> GetBoolArg(const JobArgs& args, const std::string& key, bool default_value);
// Fails with InvalidArgument naming the first argument not in `known`.
Status CheckKnownArgs(const std::string& job, const JobArgs& args, const std::vector<std::string>& known);

}  // namespace mr
