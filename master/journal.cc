#include "master/journal.h"

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <cstdarg>

#include <fmt/format.h>

#include "common/record.h"
#include "common/units.h"

namespace mr {
namespace {

Status FromRocks(const rocksdb::Status& s, const char* what) {
  return s.ok() ? Status::OK() : Status::FromErrorText(fmt::format("journal: {}: {}", what, s.ToString()));
}

// Every record whose key starts with `prefix`, in key order, parsed as M ("what" names one in the
// error when it cannot be parsed).
template <typename M>
Result<std::vector<M>> ScanRecords(rocksdb::DB* db, const std::string& prefix, const char* what) {
  std::vector<M> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    M m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Corruption(fmt::format("journal: unreadable {}", what));
    }
    out.push_back(std::move(m));
  }
  MR_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read"));
  return out;
}

// The record at `key` parsed as M; NotFound with `missing` when there is none.
template <typename M>
Result<M> GetRecord(rocksdb::DB* db, const std::string& key, const std::string& missing, const char* what) {
  std::string v;
  auto s = db->Get(rocksdb::ReadOptions(), key, &v);
  if (s.IsNotFound()) return Status::NotFound(missing);
  MR_RETURN_IF_ERROR(FromRocks(s, "cannot read"));
  M m;
  if (!m.ParseFromString(v)) return Status::Corruption(fmt::format("journal: unreadable {}", what));
  return m;
}

std::string JobKey(uint64_t id) {
  std::string k = "job/";
  PutFixed64BE(&k, id);
  return k;
}

std::string TaskPrefix(uint64_t job) {
  std::string k = "task/";
  PutFixed64BE(&k, job);
  return k;
}

std::string TaskKey(const proto::TaskRecord& t) {
  std::string k = TaskPrefix(t.job_id());
  k.push_back(t.kind() == proto::TASK_MAP ? 'm' : 'r');
  PutFixed32BE(&k, t.index());
  return k;
}

// RocksDB's own log goes to the master's log, not to a LOG file in the journal: a LOG write that
// fails on a full disk makes RocksDB's next one abort the process.
// Its informational lines are debug lines here; its warnings and errors keep their level.
class JournalLogger : public rocksdb::Logger {
 public:
  JournalLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::DEBUG_LEVEL) {}
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) spdlog::error("journal: {}", buf);
    else if (level == rocksdb::InfoLogLevel::WARN_LEVEL) spdlog::warn("journal: {}", buf);
    else spdlog::debug("journal: {}", buf);
  }
};

rocksdb::Options JournalOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.info_log = std::make_shared<JournalLogger>();
  // Small memtables: the journal is written far more than read, and a large job's two records per
  // attempt would otherwise sit in memory (64 MiB by default, twice) as master state (docs/scale.md).
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  return options;
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& dir) {
  std::unique_ptr<Journal> j(new Journal());
  j->dir_ = dir + "/journal";
  // Made first: RocksDB logs a missing directory as an error, even when it is about to create it.
  std::error_code ec;
  std::filesystem::create_directories(j->dir_, ec);
  rocksdb::DB* db = nullptr;
  MR_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(JournalOptions(), j->dir_, &db), "cannot open"));
  j->db_.reset(db);
  MR_RETURN_IF_ERROR(j->LoadFileSizes());
  std::string v;
  auto s = db->Get(rocksdb::ReadOptions(), "meta/next_job_id", &v);
  if (s.IsNotFound()) {
    j->next_id_ = 1;
    return j;
  }
  if (!s.ok()) return FromRocks(s, "cannot read");
  auto next = ParseJobId(v);
  if (!next.ok()) return Status::Corruption(fmt::format("journal: bad meta/next_job_id '{}'", v));
  j->next_id_ = *next;
  return j;
}

Status Journal::ReopenLocked() {
  db_.reset();  // closes the log that failed
  rocksdb::DB* db = nullptr;
  MR_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(JournalOptions(), dir_, &db), "cannot reopen after a failed write"));
  db_.reset(db);
  failed_ = false;
  return Status::OK();
}

Status Journal::WriteLocked(rocksdb::WriteBatch* batch, const char* what) {
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  rocksdb::WriteOptions options;
  options.sync = true;  // what the master acts on must survive a crash
  rocksdb::Status s = db_->Write(options, batch);
  if (!s.ok()) failed_ = true;
  return FromRocks(s, what);
}

Journal::~Journal() = default;

Status Journal::PutJob(const proto::JobStatus& job) {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  b.Put(JobKey(job.job_id()), job.SerializeAsString());
  return WriteLocked(&b, "cannot write");
}

Result<std::vector<proto::JobStatus>> Journal::LoadJobs() {
  std::lock_guard lock(mu_);
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  return ScanRecords<proto::JobStatus>(db_.get(), "job/", "job record");
}

Result<std::vector<proto::TaskRecord>> Journal::LoadTasks(uint64_t job_id) {
  std::lock_guard lock(mu_);
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  return ScanRecords<proto::TaskRecord>(db_.get(), TaskPrefix(job_id), "task record");
}

std::string PlanKey(uint64_t id) {
  std::string k = "plan/";
  PutFixed64BE(&k, id);
  return k;
}

Status Journal::DropTasks(uint64_t job_id) {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  b.DeleteRange(TaskPrefix(job_id), TaskPrefix(job_id + 1));
  b.Delete(PlanKey(job_id));
  return WriteLocked(&b, "cannot delete");
}

Status Journal::PutPlan(uint64_t job_id, const proto::JobPlan& plan) {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  b.Put(PlanKey(job_id), plan.SerializeAsString());
  return WriteLocked(&b, "cannot write the split plan");
}

Result<proto::JobPlan> Journal::LoadPlan(uint64_t job_id) {
  std::lock_guard lock(mu_);
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  return GetRecord<proto::JobPlan>(db_.get(), PlanKey(job_id), fmt::format("journal: no split plan for job {}", job_id),
                                   "split plan");
}

Result<uint64_t> Journal::NextJobId() {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  b.Put("meta/next_job_id", std::to_string(next_id_ + 1));
  MR_RETURN_IF_ERROR(WriteLocked(&b, "cannot write"));
  return next_id_++;  // an id is used only once its successor is durable
}

namespace {

std::string HistoryKey(uint64_t id) {
  std::string k = "hist/";
  PutFixed64BE(&k, id);
  return k;
}

std::string LogPrefix(uint64_t job) {
  std::string k = "alog/";
  PutFixed64BE(&k, job);
  return k;
}

std::string AttemptLogKey(uint64_t job_id, const proto::AttemptLog& log) {
  std::string k = LogPrefix(job_id);
  k.push_back(log.kind() == proto::TASK_MAP ? 'm' : 'r');
  PutFixed32BE(&k, log.index());
  PutFixed32BE(&k, log.attempt());
  return k;
}

}  // namespace

Status Journal::PutHistory(const proto::JobHistory& history) {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  b.Put(HistoryKey(history.job_id()), history.SerializeAsString());
  return WriteLocked(&b, "cannot write");
}

Result<proto::JobHistory> Journal::LoadHistory(uint64_t job_id) {
  std::lock_guard lock(mu_);
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  return GetRecord<proto::JobHistory>(db_.get(), HistoryKey(job_id),
                                      fmt::format("journal: no history of job {}", job_id), "job history");
}

Result<std::vector<proto::AttemptLog>> Journal::LoadAttemptLogs(uint64_t job_id) {
  std::lock_guard lock(mu_);
  if (failed_ || db_ == nullptr) MR_RETURN_IF_ERROR(ReopenLocked());
  return ScanRecords<proto::AttemptLog>(db_.get(), LogPrefix(job_id), "attempt log");
}

Status Journal::DropJob(uint64_t job_id) {
  MR_RETURN_IF_ERROR(DropTasks(job_id));
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch batch;
  batch.Delete(JobKey(job_id));
  batch.Delete(HistoryKey(job_id));
  batch.DeleteRange(LogPrefix(job_id), LogPrefix(job_id + 1));
  return WriteLocked(&batch, "cannot delete");
}

namespace {
// A kept file's bytes, and beside them its size (small records: what start-up and the drops read).
constexpr char kFilePrefix[] = "file/";
constexpr char kFileSizePrefix[] = "filesize/";
}  // namespace

Status Journal::LoadFileSizes() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix = kFileSizePrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) return Status::Corruption("journal: unreadable file size");
    file_sizes_[it->key().ToString().substr(prefix.size())] = GetFixed64BE(it->value().data());
  }
  return FromRocks(it->status(), "cannot read");
}

Status Journal::PutFile(const std::string& sha256, const std::string& content) {
  std::lock_guard lock(mu_);
  if (file_sizes_.contains(sha256)) return Status::OK();  // kept once
  std::string size;
  PutFixed64BE(&size, content.size());
  rocksdb::WriteBatch batch;
  batch.Put(kFilePrefix + sha256, content);
  batch.Put(kFileSizePrefix + sha256, size);
  MR_RETURN_IF_ERROR(WriteLocked(&batch, "cannot write a job's file"));
  file_sizes_[sha256] = content.size();
  return Status::OK();
}

size_t Journal::FileCount() {
  std::lock_guard lock(mu_);
  return file_sizes_.size();
}

uint64_t Journal::FileBytes() {
  std::lock_guard lock(mu_);
  uint64_t bytes = 0;
  for (const auto& [sha, size] : file_sizes_) bytes += size;
  return bytes;
}

Result<std::string> Journal::LoadFile(const std::string& sha256) {
  std::lock_guard lock(mu_);
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), kFilePrefix + sha256, &v);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("no file {} is kept", sha256));
  MR_RETURN_IF_ERROR(FromRocks(s, "cannot read"));
  return v;
}

Status Journal::DropFilesExcept(const std::set<std::string>& keep) {
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch batch;
  std::vector<std::string> dropped;
  for (const auto& [sha, size] : file_sizes_) {
    if (keep.contains(sha)) continue;
    batch.Delete(kFilePrefix + sha);
    batch.Delete(kFileSizePrefix + sha);
    dropped.push_back(sha);
  }
  if (dropped.empty()) return Status::OK();
  MR_RETURN_IF_ERROR(WriteLocked(&batch, "cannot delete"));
  for (const std::string& sha : dropped) file_sizes_.erase(sha);
  return Status::OK();
}

Status Journal::Commit(const std::vector<proto::TaskRecord>& tasks, const std::vector<proto::JobStatus>& jobs,
                       const std::vector<std::pair<uint64_t, std::string>>& histories, const std::vector<uint64_t>& ended,
                       const std::vector<std::pair<uint64_t, proto::AttemptLog>>& logs) {
  if (tasks.empty() && jobs.empty() && histories.empty() && ended.empty() && logs.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  rocksdb::WriteBatch b;
  for (const proto::TaskRecord& t : tasks) b.Put(TaskKey(t), t.SerializeAsString());
  for (const proto::JobStatus& j : jobs) b.Put(JobKey(j.job_id()), j.SerializeAsString());
  for (const auto& [job_id, bytes] : histories) b.Put(HistoryKey(job_id), bytes);
  for (const auto& [job_id, log] : logs) b.Put(AttemptLogKey(job_id, log), log.SerializeAsString());
  for (uint64_t id : ended) {
    b.DeleteRange(TaskPrefix(id), TaskPrefix(id + 1));
    b.Delete(PlanKey(id));
  }
  return WriteLocked(&b, "cannot write");
}

}  // namespace mr
