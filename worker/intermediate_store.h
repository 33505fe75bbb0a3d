// IntermediateStore: a worker's map output, in a local RocksDB (DESIGN §3, §8).
//
// Layout: a spill's records of one partition are stored as record runs (common/record.h) cut into
// blocks of about kBlobBytes (256 KiB) of records, each compressed with the job's codec and
// checksummed (common/block.h), one RocksDB entry per block:
//   "D" job u64 BE | map u32 BE | attempt u32 BE | partition u32 BE | spill u32 BE | blob u32 BE
// ("C" job map attempt marks a map output complete; "S" job holds the job's shuffle secret). Entries of one (job, map, attempt,
// partition) are contiguous, spill by spill, each spill in key order. A partition written by one
// spill is served block by block as stored, neither checked nor decompressed here (the reducer
// checks every block); several spills are decoded (each block checked) and merged record by
// record while serving (equal keys in spill order, i.e. emission order), into new blocks.
// Per-record RocksDB entries cost more than the records (each key escaped and indexed); blocks
// make the store run at the speed of sequential file I/O.
//
// Spills are written as SST files and bulk-loaded (SstFileWriter + IngestExternalFile): no WAL, no
// memtable, since intermediate data can always be recomputed. A small spill (up to
// kSmallSpillBytes: a tiny map's whole output) is instead written as one batch through the
// memtable and the unsynced WAL: an SST file per tiny map would pile up thousands of files, and
// each ingest, lookup and drop costs more with every file (DESIGN §8; docs/scale.md). Ingested files and the completion
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
#include <string_view>
#include <vector>

#include "common/block.h"
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

class RunWriter;

constexpr size_t kBlobBytes = kBlockBytes;
constexpr size_t kSmallSpillBytes = 1 << 20;

// Where a map attempt's spills go: the IntermediateStore itself, or, from a task process, its
// worker's store (worker/task_process.h). Thread-safe.
class SpillStore {
 public:
  virtual ~SpillStore() = default;
  // A writer of one sorted spill of map output `id`, in blocks of `codec`.
  std::unique_ptr<RunWriter> NewRun(MapOutputId id, uint32_t spill, Codec codec);
  // A fresh path for a spill's SST file (in the store's spill directory).
  virtual std::string NewSpillPath() = 0;
  // Moves the finished SST file at `path` into the store.
  virtual Status IngestSpill(const std::string& path) = 0;
  // Writes a small spill's entries in one batch.
  virtual Status WriteSpillBatch(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
  // Records that a map attempt finished writing all of its spills.
  virtual Status MarkMapOutputComplete(MapOutputId id) = 0;
};

// Writes one sorted spill. Add records in increasing (partition, key) order, then Finish.
class RunWriter {
 public:
  ~RunWriter();
  // values: the key's values, each length-prefixed (PutLengthPrefixed).
  Status Add(uint32_t partition, std::string_view key, std::string_view values);
  // One record (no per-record allocation).
  Status AddRecord(uint32_t partition, std::string_view key, std::string_view value);
  // Ingests the spill into the store; returns the number of bytes written.
  Result<uint64_t> Finish();
  // The record bytes added, and the bytes of the blocks that hold them.
  uint64_t raw_bytes() const { return raw_bytes_; }
  uint64_t block_bytes() const { return block_bytes_; }

 private:
  friend class SpillStore;
  RunWriter(SpillStore* store, MapOutputId id, uint32_t spill, Codec codec, std::string path);
  Status FlushBlob();
  SpillStore* store_;
  MapOutputId id_;
  uint32_t spill_;
  Codec codec_;
  std::string path_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::string key_buf_;
  std::string blob_;            // records of blob_partition_ not yet written
  std::string block_;           // blob_ encoded
  uint64_t raw_bytes_ = 0, block_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> small_;  // blobs held while the spill is small
  size_t small_bytes_ = 0;
  uint32_t blob_partition_ = 0;
  uint32_t blob_seq_ = 0;       // per partition
  uint64_t entries_ = 0;
  bool opened_ = false;
  Status open_status_;
};

// Reads one partition of one map output as blocks (common/block.h), chunk by chunk.
class PartitionReader {
 public:
  ~PartitionReader();
  // Appends whole blocks to *chunk until it holds at least max_bytes (or a whole block more) or
  // the partition ends. Returns true while more remains. Corruption when a block of a partition
  // merged here fails its check.
  Result<bool> NextChunk(std::string* chunk, size_t max_bytes);

 private:
  friend class IntermediateStore;
  // One spill's blobs of the partition.
  // The iterator stays on the blob that `rest` (and key, value) point into.
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string prefix;       // partition prefix | spill
    std::string records;      // the current block's records (merging only)
    std::string_view rest;    // the current block (alone), or its records not yet read (merging)
    std::string_view key, value;
    bool exhausted = false;   // no blob left
    bool valid = false;       // key, value hold a record (merging only)
  };
  explicit PartitionReader(Codec codec);
  // Sets c.rest to the block the iterator is on (decoded when merging).
  Status TakeBlob(Cursor& c);
  // Moves c's iterator to its next blob (rest), or sets exhausted.
  Status NextBlob(Cursor& c);
  // Decodes c's next record into key, value (valid), moving to the next blob as needed.
  Status NextRecord(Cursor& c);
  std::vector<Cursor> cursors_;  // one per spill; one alone is served blob by blob
  Codec codec_;                  // of the blocks a merge makes
  std::string merged_;           // merged records not yet in a block
};

class IntermediateStore : public SpillStore {
 public:
  // Opens the store in `dir` (keeping what an earlier process left); temporary spill files go to
  // dir + "/spills" (emptied).
  static Result<std::unique_ptr<IntermediateStore>> Open(const std::string& dir);
  ~IntermediateStore() override;

  std::string NewSpillPath() override;
  Status IngestSpill(const std::string& path) override;
  Status WriteSpillBatch(const std::vector<std::pair<std::string, std::string>>& entries) override;
  // A partition held by several spills is merged into new blocks of `codec`.
  Result<std::unique_ptr<PartitionReader>> ReadPartition(MapOutputId id, uint32_t partition, Codec codec);
  // True when the map output exists (it was committed by a successful attempt on this worker).
  bool HasMapOutput(MapOutputId id);
  Status MarkMapOutputComplete(MapOutputId id) override;
  // The job's shuffle secret (AssignTask.shuffle_secret), kept with its data (through the WAL, so
  // a restarted worker still serves what it holds); a fetch must show it (worker/shuffle_server.h).
  Status PutJobSecret(uint64_t job, const std::string& secret);
  // NotFound when this worker was never given the job's secret.
  Result<std::string> JobSecret(uint64_t job);
  // Deletes everything of a job (map outputs, markers, its secret).
  Status DropJob(uint64_t job);
  // The complete map outputs in the store, in (job, map, attempt) order.
  Result<std::vector<MapOutputId>> ListMapOutputs();
  // Every job with any data in the store (complete or not), ascending.
  Result<std::vector<uint64_t>> ListJobs();
  // Where spill files are written before they are ingested.
  const std::string& spill_dir() const { return spill_dir_; }

 private:
  IntermediateStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::string spill_dir_;
  std::atomic<uint64_t> next_file_{0};
};

}  // namespace mr
