#include "master/journal.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include "common/record.h"
#include "common/units.h"

namespace mr {
namespace {

Status FromRocks(const rocksdb::Status& s, const char* what) {
  return s.ok() ? Status::OK() : Status::IoError(fmt::format("journal: {}: {}", what, s.ToString()));
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

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& dir) {
  std::unique_ptr<Journal> j(new Journal());
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  MR_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir + "/journal", &db), "cannot open"));
  j->db_.reset(db);
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

Journal::~Journal() = default;

Status Journal::PutJob(const proto::JobStatus& job) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), JobKey(job.job_id()), job.SerializeAsString()),
                   "cannot write");
}

Result<std::vector<proto::JobStatus>> Journal::LoadJobs() {
  std::vector<proto::JobStatus> jobs;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("job/"); it->Valid() && it->key().starts_with("job/"); it->Next()) {
    proto::JobStatus j;
    if (!j.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Corruption("journal: unreadable job record");
    }
    jobs.push_back(std::move(j));
  }
  MR_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read"));
  return jobs;
}

Status Journal::PutTask(const proto::TaskRecord& task) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), TaskKey(task), task.SerializeAsString()), "cannot write");
}

Result<std::vector<proto::TaskRecord>> Journal::LoadTasks(uint64_t job_id) {
  std::vector<proto::TaskRecord> tasks;
  std::string prefix = TaskPrefix(job_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    proto::TaskRecord t;
    if (!t.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Corruption("journal: unreadable task record");
    }
    tasks.push_back(std::move(t));
  }
  MR_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read"));
  return tasks;
}

std::string PlanKey(uint64_t id) {
  std::string k = "plan/";
  PutFixed64BE(&k, id);
  return k;
}

Status Journal::DropTasks(uint64_t job_id) {
  std::string begin = TaskPrefix(job_id);
  std::string end = TaskPrefix(job_id + 1);
  MR_RETURN_IF_ERROR(FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), begin, end),
                               "cannot delete"));
  return FromRocks(db_->Delete(rocksdb::WriteOptions(), PlanKey(job_id)), "cannot delete");
}

Status Journal::PutPlan(uint64_t job_id, const proto::JobPlan& plan) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), PlanKey(job_id), plan.SerializeAsString()), "cannot write");
}

Result<proto::JobPlan> Journal::LoadPlan(uint64_t job_id) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), PlanKey(job_id), &v);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("journal: no split plan for job {}", job_id));
  MR_RETURN_IF_ERROR(FromRocks(s, "cannot read"));
  proto::JobPlan plan;
  if (!plan.ParseFromString(v)) return Status::Corruption("journal: unreadable split plan");
  return plan;
}

Result<uint64_t> Journal::NextJobId() {
  uint64_t id = next_id_++;
  MR_RETURN_IF_ERROR(FromRocks(db_->Put(rocksdb::WriteOptions(), "meta/next_job_id", std::to_string(next_id_)),
                               "cannot write"));
  return id;
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

}  // namespace

Status Journal::PutHistory(const proto::JobHistory& history) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), HistoryKey(history.job_id()), history.SerializeAsString()),
                   "cannot write");
}

Result<proto::JobHistory> Journal::LoadHistory(uint64_t job_id) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), HistoryKey(job_id), &v);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("journal: no history of job {}", job_id));
  MR_RETURN_IF_ERROR(FromRocks(s, "cannot read"));
  proto::JobHistory h;
  if (!h.ParseFromString(v)) return Status::Corruption("journal: unreadable job history");
  return h;
}

Status Journal::PutAttemptLog(uint64_t job_id, const proto::AttemptLog& log) {
  std::string k = LogPrefix(job_id);
  k.push_back(log.kind() == proto::TASK_MAP ? 'm' : 'r');
  PutFixed32BE(&k, log.index());
  PutFixed32BE(&k, log.attempt());
  return FromRocks(db_->Put(rocksdb::WriteOptions(), k, log.SerializeAsString()), "cannot write");
}

Result<std::vector<proto::AttemptLog>> Journal::LoadAttemptLogs(uint64_t job_id) {
  std::vector<proto::AttemptLog> logs;
  std::string prefix = LogPrefix(job_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    proto::AttemptLog l;
    if (!l.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Corruption("journal: unreadable attempt log");
    }
    logs.push_back(std::move(l));
  }
  MR_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read"));
  return logs;
}

Status Journal::DropJob(uint64_t job_id) {
  MR_RETURN_IF_ERROR(DropTasks(job_id));
  rocksdb::WriteBatch batch;
  batch.Delete(JobKey(job_id));
  batch.Delete(HistoryKey(job_id));
  batch.DeleteRange(LogPrefix(job_id), LogPrefix(job_id + 1));
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "cannot delete");
}

}  // namespace mr
