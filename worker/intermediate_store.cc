#include "worker/intermediate_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fmt/format.h>

#include "common/log.h"
#include "common/record.h"

namespace mr {
namespace {

std::string DataPrefix(MapOutputId id, uint32_t partition) {
  std::string p = "D";
  PutFixed64BE(&p, id.job);
  PutFixed32BE(&p, id.map);
  PutFixed32BE(&p, id.attempt);
  PutFixed32BE(&p, partition);
  return p;
}

std::string MarkerKey(MapOutputId id) {
  std::string p = "C";
  PutFixed64BE(&p, id.job);
  PutFixed32BE(&p, id.map);
  PutFixed32BE(&p, id.attempt);
  return p;
}

std::string JobPrefix(char kind, uint64_t job) {
  std::string p(1, kind);
  PutFixed64BE(&p, job);
  return p;
}

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char c = static_cast<unsigned char>(prefix.back());
    if (c != 0xff) {
      prefix.back() = static_cast<char>(c + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// Intermediate data is recomputed when lost: syncing spills and the store's own files to the disk
// would only make map tasks wait for it (DESIGN §8). What the process wrote survives its crash (it
// is in the page cache); a store that a power loss left unreadable is started afresh (Open).
// This file system forwards everything except the syncs.
class NoSyncWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
};

class NoSyncDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  using FSDirectoryWrapper::FSDirectoryWrapper;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions&, rocksdb::IODebugContext*,
                                        const rocksdb::DirFsyncOptions&) override {
    return rocksdb::IOStatus::OK();
  }
};

class NoSyncFileSystem : public rocksdb::FileSystemWrapper {
 public:
  NoSyncFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "MrNoSyncFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
    if (s.ok()) *r = std::make_unique<NoSyncWritableFile>(std::move(file));
    return s;
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r, rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSDirectory> dir;
    rocksdb::IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
    if (s.ok()) *r = std::make_unique<NoSyncDirectory>(std::move(dir));
    return s;
  }
};

rocksdb::Env* NoSyncEnv() {
  static rocksdb::Env* env = rocksdb::NewCompositeEnv(std::make_shared<NoSyncFileSystem>()).release();
  return env;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  return s.ok() ? Status::OK() : Status::FromErrorText(fmt::format("{}: {}", what, s.ToString()));
}

}  // namespace

RunWriter::RunWriter(SpillStore* store, MapOutputId id, uint32_t spill, Codec codec, std::string path)
    : store_(store), id_(id), spill_(spill), codec_(codec), path_(std::move(path)) {}

RunWriter::~RunWriter() {
  if (opened_) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

Status RunWriter::Add(uint32_t partition, std::string_view key, std::string_view values) {
  std::string_view v;
  while (!values.empty()) {
    if (!GetLengthPrefixed(&values, &v)) return Status::InvalidArgument("malformed value list");
    MR_RETURN_IF_ERROR(AddRecord(partition, key, v));
  }
  return Status::OK();
}

Status RunWriter::AddRecord(uint32_t partition, std::string_view key, std::string_view value) {
  if (partition != blob_partition_ || blob_.size() >= kBlobBytes) {
    MR_RETURN_IF_ERROR(FlushBlob());
    if (partition != blob_partition_) blob_seq_ = 0;
    blob_partition_ = partition;
  }
  if (blob_.capacity() < kBlobBytes + 4096) blob_.reserve(kBlobBytes + 4096);
  AppendRecord(&blob_, key, value);
  return Status::OK();
}

Status RunWriter::FlushBlob() {
  if (blob_.empty()) return Status::OK();
  key_buf_ = DataPrefix(id_, blob_partition_);
  PutFixed32BE(&key_buf_, spill_);
  PutFixed32BE(&key_buf_, blob_seq_++);
  entries_++;
  raw_bytes_ += blob_.size();
  block_.clear();
  AppendBlock(codec_, blob_, &block_);
  blob_.clear();
  block_bytes_ += block_.size();
  if (!opened_ && small_bytes_ + block_.size() <= kSmallSpillBytes) {
    // A small spill stays in memory until Finish writes it in one batch.
    small_bytes_ += key_buf_.size() + block_.size();
    small_.emplace_back(key_buf_, block_);
    return Status::OK();
  }
  if (!opened_) {
    rocksdb::Options options;
    // The blocks are compressed already (common/block.h).
    options.compression = rocksdb::kNoCompression;
    options.env = NoSyncEnv();
    writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options);
    MR_RETURN_IF_ERROR(FromRocks(writer_->Open(path_), "cannot create spill " + path_));
    opened_ = true;
    // Too big for a batch after all: what was held goes first (it precedes in key order).
    for (auto& [k, v] : small_) {
      MR_RETURN_IF_ERROR(FromRocks(writer_->Put(k, v), "cannot write spill " + path_));
    }
    small_.clear();
    small_bytes_ = 0;
  }
  return FromRocks(writer_->Put(key_buf_, rocksdb::Slice(block_.data(), block_.size())),
                   "cannot write spill " + path_);
}

Result<uint64_t> RunWriter::Finish() {
  MR_RETURN_IF_ERROR(FlushBlob());
  if (entries_ == 0) return uint64_t{0};
  if (!opened_) {
    // A small spill: one write batch through the memtable and the (unsynced) WAL, which survives
    // a crash of the process as an ingested file does. One SST file per small spill would pile up
    // files, and with them the cost of each ingest and of every lookup.
    uint64_t bytes = small_bytes_;
    Status written = store_->WriteSpillBatch(small_);
    small_.clear();
    small_bytes_ = 0;
    MR_RETURN_IF_ERROR(written);
    return bytes;
  }
  rocksdb::ExternalSstFileInfo info;
  MR_RETURN_IF_ERROR(FromRocks(writer_->Finish(&info), "cannot finish spill " + path_));
  MR_RETURN_IF_ERROR(store_->IngestSpill(path_));
  return info.file_size;
}

std::unique_ptr<RunWriter> SpillStore::NewRun(MapOutputId id, uint32_t spill, Codec codec) {
  return std::unique_ptr<RunWriter>(new RunWriter(this, id, spill, codec, NewSpillPath()));
}

Status IntermediateStore::WriteSpillBatch(const std::vector<std::pair<std::string, std::string>>& entries) {
  rocksdb::WriteBatch batch;
  for (auto& [k, v] : entries) batch.Put(k, v);
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "cannot write spill");
}

Status IntermediateStore::IngestSpill(const std::string& path) {
  rocksdb::IngestExternalFileOptions opts;
  opts.move_files = true;
  return FromRocks(db_->IngestExternalFile({path}, opts), "cannot ingest spill");
}

PartitionReader::PartitionReader(Codec codec) : codec_(codec) {}
PartitionReader::~PartitionReader() = default;

Status PartitionReader::TakeBlob(Cursor& c) {
  c.rest = std::string_view(c.it->value().data(), c.it->value().size());
  if (cursors_.size() == 1) return Status::OK();  // sent as it is; the reducer checks it
  c.records.clear();
  Status decoded = DecodeBlock(&c.rest, &c.records);
  if (!decoded.ok()) return decoded.WithMessage("map output in the store: " + decoded.message());
  if (!c.rest.empty()) return Status::Corruption("map output in the store: bytes after a block");
  c.rest = c.records;
  return Status::OK();
}

Status PartitionReader::NextBlob(Cursor& c) {
  c.it->Next();
  c.rest = {};
  if (!c.it->Valid() || !c.it->key().starts_with(c.prefix)) {
    c.exhausted = true;
    return FromRocks(c.it->status(), "reading map output");
  }
  return TakeBlob(c);
}

Status PartitionReader::NextRecord(Cursor& c) {
  c.valid = false;
  while (c.rest.empty()) {
    if (c.exhausted) return Status::OK();
    MR_RETURN_IF_ERROR(NextBlob(c));
  }
  if (!GetLengthPrefixed(&c.rest, &c.key) || !GetLengthPrefixed(&c.rest, &c.value)) {
    return Status::Corruption("bad record in the store");
  }
  c.valid = true;
  return Status::OK();
}

Result<bool> PartitionReader::NextChunk(std::string* chunk, size_t max_bytes) {
  if (cursors_.size() == 1) {  // one sorted run: whole blobs, no decoding
    Cursor& c = cursors_[0];
    while (!c.exhausted && chunk->size() < max_bytes) {
      chunk->append(c.rest);
      MR_RETURN_IF_ERROR(NextBlob(c));
    }
    return !c.exhausted;
  }
  // Merged records gather in merged_ until they fill a block.
  while (chunk->size() < max_bytes) {
    Cursor* best = nullptr;
    for (Cursor& c : cursors_) {
      if (c.valid && (best == nullptr || c.key < best->key)) best = &c;  // ties: the earlier spill
    }
    if (best == nullptr) break;
    AppendRecord(&merged_, best->key, best->value);
    MR_RETURN_IF_ERROR(NextRecord(*best));
    if (merged_.size() >= kBlobBytes) {
      AppendBlock(codec_, merged_, chunk);
      merged_.clear();
    }
  }
  for (Cursor& c : cursors_) {
    if (c.valid) return true;
  }
  if (!merged_.empty()) {
    AppendBlock(codec_, merged_, chunk);
    merged_.clear();
  }
  return false;
}

Result<std::unique_ptr<IntermediateStore>> IntermediateStore::Open(const std::string& dir) {
  std::error_code ec;
  std::string db_dir = dir + "/shuffle.db";
  std::unique_ptr<IntermediateStore> store(new IntermediateStore());
  store->spill_dir_ = dir + "/spills";
  std::filesystem::remove_all(store->spill_dir_, ec);
  std::filesystem::create_directories(store->spill_dir_, ec);
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", store->spill_dir_));

  rocksdb::Options options;
  options.create_if_missing = true;
  // Intermediate data is written once, read once and dropped: keep compaction out of the way.
  options.disable_auto_compactions = true;
  options.max_open_files = 512;
  options.env = NoSyncEnv();
  rocksdb::DB* db = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, db_dir, &db);
  if (!opened.ok() && !opened.IsIOError()) {
    // Unreadable (e.g. files lost with a power cut, never synced): it is only a cache of map
    // outputs the master can recompute, so start with an empty one.
    spdlog::warn("intermediate store {} is unreadable ({}); starting with an empty one", db_dir, opened.ToString());
    std::filesystem::remove_all(db_dir, ec);
    opened = rocksdb::DB::Open(options, db_dir, &db);
  }
  MR_RETURN_IF_ERROR(FromRocks(opened, "cannot open " + db_dir));
  store->db_.reset(db);
  return store;
}

IntermediateStore::~IntermediateStore() = default;

std::string IntermediateStore::NewSpillPath() {
  return fmt::format("{}/{}.sst", spill_dir_, next_file_.fetch_add(1));
}

Result<std::unique_ptr<PartitionReader>> IntermediateStore::ReadPartition(MapOutputId id, uint32_t partition,
                                                                          Codec codec) {
  if (!HasMapOutput(id)) {
    return Status::NotFound(fmt::format("no output of job {} map {} attempt {} here", id.job,
                                        id.map, id.attempt));
  }
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  // Blobs are blocks of up to 256 KiB read whole: a prefetch buffer would only copy them once
  // more, and the data was written moments ago by this process. Each block carries a checksum of
  // its own that the reducer checks (common/block.h), so RocksDB's would only be computed twice.
  ro.readahead_size = 0;
  ro.verify_checksums = false;
  const std::string prefix = DataPrefix(id, partition);
  std::unique_ptr<PartitionReader> reader(new PartitionReader(codec));
  // One cursor per spill that holds records of this partition.
  std::unique_ptr<rocksdb::Iterator> scan(db_->NewIterator(ro));
  for (scan->Seek(prefix); scan->Valid() && scan->key().starts_with(prefix);) {
    if (scan->key().size() != prefix.size() + 8) return Status::Corruption("bad intermediate key in the store");
    uint32_t spill = GetFixed32BE(scan->key().data() + prefix.size());
    PartitionReader::Cursor c;
    c.prefix = prefix;
    PutFixed32BE(&c.prefix, spill);
    c.it.reset(db_->NewIterator(ro));
    c.it->Seek(c.prefix);
    if (!c.it->Valid() || !c.it->key().starts_with(c.prefix)) return Status::Corruption("map output changed while read");
    reader->cursors_.push_back(std::move(c));
    if (spill == UINT32_MAX) break;
    std::string next = prefix;
    PutFixed32BE(&next, spill + 1);
    scan->Seek(next);
  }
  MR_RETURN_IF_ERROR(FromRocks(scan->status(), "reading map output"));
  for (auto& c : reader->cursors_) MR_RETURN_IF_ERROR(reader->TakeBlob(c));
  if (reader->cursors_.size() > 1) {
    for (auto& c : reader->cursors_) MR_RETURN_IF_ERROR(reader->NextRecord(c));
  }
  return reader;
}

bool IntermediateStore::HasMapOutput(MapOutputId id) {
  std::string v;
  return db_->Get(rocksdb::ReadOptions(), MarkerKey(id), &v).ok();
}

Status IntermediateStore::MarkMapOutputComplete(MapOutputId id) {
  rocksdb::WriteOptions wo;  // through the WAL: the marker must survive a crash of the process
  return FromRocks(db_->Put(wo, MarkerKey(id), ""), "cannot mark map output complete");
}

Status IntermediateStore::PutJobSecret(uint64_t job, const std::string& secret) {
  rocksdb::WriteOptions wo;  // through the WAL: a restarted worker serves what it still holds
  return FromRocks(db_->Put(wo, JobPrefix('S', job), secret), "cannot store the job's shuffle secret");
}

Result<std::string> IntermediateStore::JobSecret(uint64_t job) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), JobPrefix('S', job), &value);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("job {} is unknown here", job));
  MR_RETURN_IF_ERROR(FromRocks(s, "cannot read the job's shuffle secret"));
  return value;
}

Status IntermediateStore::DropJob(uint64_t job) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  for (char kind : {'C', 'D', 'S'}) {
    std::string begin = JobPrefix(kind, job);
    std::string end = PrefixEnd(begin);
    MR_RETURN_IF_ERROR(FromRocks(db_->DeleteRange(wo, db_->DefaultColumnFamily(), begin, end),
                                 "cannot drop job data"));
    rocksdb::Slice b(begin), e(end);
    MR_RETURN_IF_ERROR(FromRocks(
        rocksdb::DeleteFilesInRange(db_.get(), db_->DefaultColumnFamily(), &b, &e),
        "cannot delete job files"));
  }
  return Status::OK();
}

Result<std::vector<MapOutputId>> IntermediateStore::ListMapOutputs() {
  std::vector<MapOutputId> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
    std::string_view k(it->key().data() + 1, it->key().size() - 1);
    if (k.size() != 16) return Status::Corruption("bad completion marker in the store");
    MapOutputId id;
    id.job = GetFixed64BE(k.data());
    id.map = GetFixed32BE(k.data() + 8);
    id.attempt = GetFixed32BE(k.data() + 12);
    out.push_back(id);
  }
  MR_RETURN_IF_ERROR(FromRocks(it->status(), "listing map outputs"));
  return out;
}

Result<std::vector<uint64_t>> IntermediateStore::ListJobs() {
  std::vector<uint64_t> jobs;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (char kind : {'C', 'D', 'S'}) {
    // One seek per job: jump past each job's keys.
    std::string seek(1, kind);
    for (it->Seek(seek); it->Valid() && it->key().size() >= 9 && it->key()[0] == kind;) {
      uint64_t job = GetFixed64BE(it->key().data() + 1);
      jobs.push_back(job);
      std::string next = PrefixEnd(JobPrefix(kind, job));
      if (next.empty()) break;
      it->Seek(next);
    }
    MR_RETURN_IF_ERROR(FromRocks(it->status(), "listing jobs"));
  }
  std::sort(jobs.begin(), jobs.end());
  jobs.erase(std::unique(jobs.begin(), jobs.end()), jobs.end());
  return jobs;
}

}  // namespace mr
