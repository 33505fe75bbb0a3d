#include "worker/intermediate_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

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

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  return Status::IoError(fmt::format("{}: {}", what, s.ToString()));
}

}  // namespace

RunWriter::RunWriter(IntermediateStore* store, MapOutputId id, uint32_t spill, std::string path)
    : store_(store), id_(id), spill_(spill), path_(std::move(path)) {}

RunWriter::~RunWriter() {
  if (opened_) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

Status RunWriter::Add(uint32_t partition, std::string_view key, std::string_view values) {
  if (!opened_) {
    writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), rocksdb::Options());
    MR_RETURN_IF_ERROR(FromRocks(writer_->Open(path_), "cannot create spill " + path_));
    opened_ = true;
  }
  key_buf_ = DataPrefix(id_, partition);
  AppendOrderedKey(&key_buf_, key);
  PutFixed32BE(&key_buf_, spill_);
  entries_++;
  return FromRocks(writer_->Put(key_buf_, rocksdb::Slice(values.data(), values.size())),
                   "cannot write spill " + path_);
}

Result<uint64_t> RunWriter::Finish() {
  if (entries_ == 0) return uint64_t{0};
  rocksdb::ExternalSstFileInfo info;
  MR_RETURN_IF_ERROR(FromRocks(writer_->Finish(&info), "cannot finish spill " + path_));
  rocksdb::IngestExternalFileOptions opts;
  opts.move_files = true;
  MR_RETURN_IF_ERROR(FromRocks(store_->db_->IngestExternalFile({path_}, opts), "cannot ingest spill"));
  return info.file_size;
}

PartitionReader::PartitionReader(std::unique_ptr<rocksdb::Iterator> it, std::string prefix)
    : it_(std::move(it)), prefix_(std::move(prefix)) {
  it_->Seek(prefix_);
}

PartitionReader::~PartitionReader() = default;

Result<bool> PartitionReader::NextChunk(std::string* chunk, size_t max_bytes) {
  while (it_->Valid() && chunk->size() < max_bytes) {
    rocksdb::Slice k = it_->key();
    if (!k.starts_with(prefix_)) return false;
    std::string_view rest(k.data() + prefix_.size(), k.size() - prefix_.size());
    if (!GetOrderedKey(&rest, &key_) || rest.size() != 4) {
      return Status::Corruption("bad intermediate key in the store");
    }
    std::string_view values(it_->value().data(), it_->value().size());
    std::string_view v;
    while (!values.empty()) {
      if (!GetLengthPrefixed(&values, &v)) return Status::Corruption("bad value list in the store");
      AppendRecord(chunk, key_, v);
    }
    it_->Next();
  }
  MR_RETURN_IF_ERROR(FromRocks(it_->status(), "reading map output"));
  return it_->Valid() && it_->key().starts_with(prefix_);
}

Result<std::unique_ptr<IntermediateStore>> IntermediateStore::Open(const std::string& dir) {
  std::error_code ec;
  std::string db_dir = dir + "/shuffle.db";
  std::unique_ptr<IntermediateStore> store(new IntermediateStore());
  store->spill_dir_ = dir + "/spills";
  std::filesystem::remove_all(store->spill_dir_, ec);
  std::filesystem::create_directories(store->spill_dir_, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", store->spill_dir_, ec.message()));

  rocksdb::Options options;
  options.create_if_missing = true;
  // Intermediate data is written once, read once and dropped: keep compaction out of the way.
  options.disable_auto_compactions = true;
  options.max_open_files = 512;
  rocksdb::DB* db = nullptr;
  MR_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, db_dir, &db), "cannot open " + db_dir));
  store->db_.reset(db);
  return store;
}

IntermediateStore::~IntermediateStore() = default;

std::unique_ptr<RunWriter> IntermediateStore::NewRun(MapOutputId id, uint32_t spill) {
  std::string path = fmt::format("{}/{}.sst", spill_dir_, next_file_.fetch_add(1));
  return std::unique_ptr<RunWriter>(new RunWriter(this, id, spill, path));
}

Result<std::unique_ptr<PartitionReader>> IntermediateStore::ReadPartition(MapOutputId id,
                                                                          uint32_t partition) {
  if (!HasMapOutput(id)) {
    return Status::NotFound(fmt::format("no output of job {} map {} attempt {} here", id.job,
                                        id.map, id.attempt));
  }
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  return std::unique_ptr<PartitionReader>(new PartitionReader(std::move(it), DataPrefix(id, partition)));
}

bool IntermediateStore::HasMapOutput(MapOutputId id) {
  std::string v;
  return db_->Get(rocksdb::ReadOptions(), MarkerKey(id), &v).ok();
}

Status IntermediateStore::MarkMapOutputComplete(MapOutputId id) {
  rocksdb::WriteOptions wo;  // through the WAL: the marker must survive a crash of the process
  return FromRocks(db_->Put(wo, MarkerKey(id), ""), "cannot mark map output complete");
}

Status IntermediateStore::DropJob(uint64_t job) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  for (char kind : {'C', 'D'}) {
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
  for (char kind : {'C', 'D'}) {
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
