// The mr job API: everything a MapReduce job supplies to the engine, in one self-contained header.
// Built-in jobs (jobs/) and user plugins implement it alike.
//
// Lifecycle: the engine creates a Job from its arguments (validated then: bad arguments are
// reported to the user at submit time). For every map thread it calls NewMapper(), for every reduce
// task NewReducer(), for every map thread that spills NewCombiner(); those objects are used by one
// thread only. A Job itself is immutable after creation and is shared between threads.
//
// A plugin is a shared library built against this header that exports
//
//   MR_PLUGIN(MyJob)   // MyJob has a constructor MyJob(const mr::JobArgs&, std::string* error)
//
// and is run with `mr run|submit --job NAME --job-lib PATH`. It must be built with the same
// compiler and C++ standard library as mr (the API passes std::string and std::map). The client
// loads it once at submit to create its job from the --arg values, so bad arguments are refused
// there.
//
// Text helpers (mr::words below) are the engine's own: the plugin calls into the mr process that
// loads it, so it needs no other header or library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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

// One input line and where it came from (the split reader's line ownership rule applies). With
// the input format records:N, one N-byte record, as it is in the file (any byte value).
struct InputRecord {
  std::string_view file;  // the input file's path
  uint64_t offset = 0;    // byte offset of the line in the file
  std::string_view line;  // without '\n' (and without a trailing '\r'); records: all N bytes
};

// Many whole lines at once: `text` holds complete lines, each ending in '\n' except perhaps the
// last line of a file, starting at byte `offset` of `file`. With records:N, whole records.
struct InputBlock {
  std::string_view file;
  uint64_t offset = 0;
  std::string_view text;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  virtual void Map(const InputRecord& record, Emitter& out) = 0;
  // Optional fast path for mappers that do not need line boundaries (word count): map a block of
  // whole lines at once and return true. The default returns false, and the engine then calls
  // Map() for every line of the block. Must answer the same for every block.
  virtual bool MapBlock(const InputBlock& block, Emitter& out) { return false; }
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

// One input split as the master planned it (see Job::Plan).
struct InputSplitInfo {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct TaskContext {
  const JobArgs* args = nullptr;
  uint32_t reducers = 1;
  Counters* counters = nullptr;  // owned by the engine; for this thread only
  // Set to a non-empty message to fail the attempt (it is retried like any failed attempt).
  // Owned by the engine; for this thread only.
  std::string* error = nullptr;
  void Fail(std::string message) const {
    if (error != nullptr && error->empty()) *error = std::move(message);
  }
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
  // The input format the job reads: "lines" (the default) or "records:N", fixed N-byte records
  // (splits then start and end on record boundaries). `--input-format` overrides it.
  virtual std::string InputFormat() const { return "lines"; }
  // Optional planning step, run once by the master when the job is submitted, over the job's
  // splits: it may read the input (TeraSort samples keys) and add arguments, which every task
  // then receives in TaskContext::args and in the job's constructor. Return false with *error set
  // to refuse the job. Built-in jobs only: the master does not run user code, so a plugin's Plan
  // is not called.
  virtual bool Plan(const std::vector<InputSplitInfo>& splits, uint32_t reducers, JobArgs* extra,
                    std::string* error) const {
    return true;
  }
  // True when the output is binary: each Emit(key, value) of the reducer writes the key's bytes
  // then the value's, nothing between or after (TeraSort writes its records unchanged). Otherwise
  // the output is lines key<TAB>value<LF>.
  virtual bool RawOutput() const { return false; }
};

}  // namespace mr

// The engine's text functions, exported by the mr binary for plugins. Call them through mr::words.
extern "C" {
void mr_api_for_each_word(const char* text, size_t size, void (*fn)(void* ctx, const char* word, size_t size),
                          void* ctx);
void mr_api_append_lowercase(const char* word, size_t size, std::string* out);
}

namespace mr::words {

// Calls fn(std::string_view word) for each word of `text`, in order, exactly as the built-in jobs
// (wordcount, invertedindex) split text: a word is a maximal run of Unicode letters (categories
// L*) in UTF-8; every other code point and every byte of invalid UTF-8 separates words. The views
// point into `text`. Thread-safe.
template <class Fn>
void ForEach(std::string_view text, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  mr_api_for_each_word(
      text.data(), text.size(),
      [](void* ctx, const char* word, size_t size) { (*static_cast<F*>(ctx))(std::string_view(word, size)); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// Appends `word` to *out with each code point replaced by its simple lowercase, as the built-in
// jobs' lowercase=true does. Bytes of invalid UTF-8 are copied unchanged. Thread-safe.
inline void AppendLowercase(std::string_view word, std::string* out) {
  mr_api_append_lowercase(word.data(), word.size(), out);
}

}  // namespace mr::words

// Exports a plugin's job. The constructor may set *error to reject bad arguments.
#define MR_PLUGIN(JobClass)                                                              \
  extern "C" ::mr::Job* mr_plugin_create_job(const ::mr::JobArgs* args, std::string* error) { \
    auto* job = new JobClass(*args, error);                                              \
    if (!error->empty()) {                                                               \
      delete job;                                                                        \
      return nullptr;                                                                    \
    }                                                                                    \
    return job;                                                                          \
  }                                                                                      \
  extern "C" int mr_plugin_api_version() { return 2; }
