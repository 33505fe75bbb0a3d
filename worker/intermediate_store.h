// IntermediateStore: a worker's map output, in a local RocksDB (DESIGN §3, §8).
//
// Layout: one RocksDB key per (job, map task, attempt, partition, key, spill):
//   "D" job u64 BE | map u32 BE | attempt u32 BE | partition u32 BE | ordered key (common/record.h) |
//   spill u32 BE
// ("C" job map attempt marks a map output complete) and the value holds that key's values from that spill, each length-prefixed. Keys of one
// (job, map, attempt, partition) are therefore contiguous and in key order; a key that appears in
// several spills appears in consecutive entries.
//
// Spills are written as SST files and bulk-loaded (SstFileWriter + IngestExternalFile): no WAL, no
// memtable, since intermediate data can always be recomputed. Ingested files and the completion
// markers (written through the WAL) survive a crash of the process, so a worker restarted on its
// data dir still holds its finished map outputs and offers them to the master (DESIGN §5); the
// master says which jobs are over, and their data is dropped.
//
// Thread-safety: all methods are thread-safe (RocksDB is); a RunWriter is used by one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace rocksdb {
class DB;
class Iterator;
class SstFileWriter;
}  // namespace rocksdb

namespace mr {

struct MapOutputId {
  uint64_t job = 0;
  uint32_t map = 0;
  uint32_t attempt = 0;
};

class IntermediateStore;

// Writes one sorted spill. Add entries in increasing (partition, key) order, then Finish.
class RunWriter {
 public:
  ~RunWriter();
  // values: the key's values, each length-prefixed (PutLengthPrefixed).
  Status Add(uint32_t partition, std::string_view key, std::string_view values);
  // Ingests the spill into the store; returns the number of bytes written.
  Result<uint64_t> Finish();

 private:
  friend class IntermediateStore;
  RunWriter(IntermediateStore* store, MapOutputId id, uint32_t spill, std::string path);
  IntermediateStore* store_;
  MapOutputId id_;
  uint32_t spill_;
  std::string path_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::string key_buf_;
  uint64_t entries_ = 0;
  bool opened_ = false;
  Status open_status_;
};

// Reads one partition of one map output as record runs (common/record.h), chunk by chunk.
class PartitionReader {
 public:
  ~PartitionReader();
  // Appends records to *chunk until it holds at least max_bytes or the partition ends.
  // Returns true while more remains.
  Result<bool> NextChunk(std::string* chunk, size_t max_bytes);

 private:
  friend class IntermediateStore;
  PartitionReader(std::unique_ptr<rocksdb::Iterator> it, std::string prefix);
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  std::string key_;
};

class IntermediateStore {
 public:
  // Opens the store in `dir` (keeping what an earlier process left); temporary spill files go to
  // dir + "/spills" (emptied).
  static Result<std::unique_ptr<IntermediateStore>> Open(const std::string& dir);
  ~IntermediateStore();

  std::unique_ptr<RunWriter> NewRun(MapOutputId id, uint32_t spill);
  Result<std::unique_ptr<PartitionReader>> ReadPartition(MapOutputId id, uint32_t partition);
  // True when the map output exists (it was committed by a successful attempt on this worker).
  bool HasMapOutput(MapOutputId id);
  // Records that a map attempt finished writing all of its spills.
  Status MarkMapOutputComplete(MapOutputId id);
  // Deletes everything of a job (map outputs and markers).
  Status DropJob(uint64_t job);
  // The complete map outputs in the store, in (job, map, attempt) order.
  Result<std::vector<MapOutputId>> ListMapOutputs();
  // Every job with any data in the store (complete or not), ascending.
  Result<std::vector<uint64_t>> ListJobs();

 private:
  friend class RunWriter;
  IntermediateStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::string spill_dir_;
  std::atomic<uint64_t> next_file_{0};
};

}  // namespace mr
