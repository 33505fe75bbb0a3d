// Map-side output buffers. Each map thread owns one; it takes the mapper's (key, value) pairs and
// turns them into sorted spills in the IntermediateStore whenever its memory budget is used up.
//  - SumBuffer: for jobs whose combiner sums integers; an open-addressing hash table from key to
//    running sum, keys copied once into an arena. No per-record allocation. A sum beyond the
//    signed 64-bit range makes status() an error naming the key (sums never wrap).
//  - SortBuffer: any job; records appended to an arena, sorted by (partition, key) at spill time,
//    then, if the job has a combiner, run through a fresh one per spill whose output is collected,
//    sorted and spilled (so a combiner may emit late, as a streaming command does).
//  - PartBuffer: a map-only job's (--reducers 0): no store, no sort, no combiner; the pairs go to a
//    part file as the mapper emits them (worker/part_writer.h), and Flush completes the file.
// Not thread-safe: one per thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job.h"
#include "worker/counters.h"
#include "worker/intermediate_store.h"

namespace mr {

struct SpillTarget {
  SpillStore* store = nullptr;
  MapOutputId id;
  std::atomic<uint32_t>* next_spill = nullptr;  // shared by the task's threads
  uint32_t reducers = 1;
  const Partitioner* partitioner = nullptr;     // nullptr: the stable hash
  Codec codec = Codec::kLz4;                    // the job's intermediate codec
};

class MapOutputBuffer : public Emitter {
 public:
  ~MapOutputBuffer() override = default;
  // Spills what is buffered. Also called by the buffer itself when it is full.
  virtual Status Flush() = 0;
  // The first error met while emitting (a value that is not an integer, a failed spill).
  const Status& status() const { return status_; }

 protected:
  Status status_;
};

// `counters` must outlive the buffer.
std::unique_ptr<MapOutputBuffer> NewSumBuffer(const SpillTarget& target, uint64_t budget,
                                              CounterSet* counters);
// Merges `other` (a SumBuffer) into `into` (a SumBuffer); `other` is left empty.
void MergeSumBuffers(MapOutputBuffer* into, MapOutputBuffer* other);
// Makes a fresh combiner for one spill; empty when the job has none.
using CombinerFactory = std::function<std::unique_ptr<Reducer>()>;
std::unique_ptr<MapOutputBuffer> NewSortBuffer(const SpillTarget& target, uint64_t budget,
                                               CombinerFactory new_combiner, CounterSet* counters);
// Writes `path` (created, or truncated); `raw` as Job::RawOutput. Flush syncs and closes it (only
// the first call does anything) and counts map.output.records and map.output.bytes.
std::unique_ptr<MapOutputBuffer> NewPartBuffer(const std::string& path, bool raw, CounterSet* counters);

}  // namespace mr
