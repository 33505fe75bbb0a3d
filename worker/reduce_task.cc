#include "worker/reduce_task.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <thread>

#include "common/failpoint.h"
#include "common/log.h"
#include "common/output_layout.h"
#include "common/sync_client.h"
#include "worker/run_file.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

constexpr int kFetchTries = 3;
// Connecting and the hello are quick on any network that works; a host that does not answer (cut
// off, or gone) must cost seconds, not minutes, before the master hears of it.
constexpr Millis kConnectTimeout{3000};
constexpr Millis kFetchTimeout{30000};

bool Cancelled(const ReduceOptions& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

// Copies one map output's partition into `path`. Returns the bytes copied.
Result<uint64_t> FetchOne(SyncClient* client, const proto::AssignTask& task,
                          const proto::MapOutputLocation& loc, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!out) return Status::IoError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  proto::Envelope req;
  auto* r = req.mutable_fetch_request();
  r->set_job_id(task.job_id());
  r->set_map_index(loc.map_index());
  r->set_attempt(loc.attempt());
  r->set_partition(task.index());
  proto::Envelope next;
  next.mutable_fetch_next();
  uint64_t bytes = 0;
  const proto::Envelope* send = &req;
  while (true) {
    auto reply = client->Call(*send, kFetchTimeout);
    if (!reply.ok()) return reply.status();
    if (!reply->has_fetch_chunk()) return Status::Protocol("shuffle server sent " + MessageName(*reply));
    const auto& chunk = reply->fetch_chunk();
    if (!chunk.error().empty()) return Status::Unavailable(chunk.error());
    if (!chunk.records().empty() &&
        std::fwrite(chunk.records().data(), 1, chunk.records().size(), out.get()) != chunk.records().size()) {
      return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    bytes += chunk.records().size();
    if (chunk.last()) break;
    send = &next;
  }
  if (std::fflush(out.get()) != 0) {
    return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return bytes;
}

// Merges sorted runs; yields each key's values across runs in run order.
class RunMerger {
 public:
  Status Add(const std::string& path, size_t buffer) {
    auto c = std::make_unique<Cursor>();
    c->index = static_cast<int>(cursors_.size());
    MR_RETURN_IF_ERROR(c->reader.Open(path, buffer));
    if (c->reader.Next(&c->key, &c->value)) heap_.push_back(c.get());
    MR_RETURN_IF_ERROR(c->reader.status());
    cursors_.push_back(std::move(c));
    std::push_heap(heap_.begin(), heap_.end(), Greater);
    return Status::OK();
  }
  bool empty() const { return heap_.empty(); }
  std::string_view top_key() const { return heap_.front()->key; }
  std::string_view top_value() const { return heap_.front()->value; }
  // Moves past the smallest record.
  Status Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Greater);
    Cursor* c = heap_.back();
    if (c->reader.Next(&c->key, &c->value)) {
      std::push_heap(heap_.begin(), heap_.end(), Greater);
    } else {
      heap_.pop_back();
    }
    return c->reader.status();
  }

 private:
  struct Cursor {
    RunFileReader reader;
    std::string_view key, value;
    int index = 0;
  };
  static bool Greater(const Cursor* a, const Cursor* b) {
    return a->key != b->key ? a->key > b->key : a->index > b->index;
  }
  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<Cursor*> heap_;
};

// The values of the current key. Advancing past a value is deferred to the next call, so the view
// handed out stays valid while the reducer uses it.
class GroupIterator : public ValueIterator {
 public:
  GroupIterator(RunMerger* m, const std::string* key) : m_(m), key_(key) {}
  bool Next(std::string_view* v) override {
    if (!Advance()) return false;
    if (m_->empty() || m_->top_key() != *key_) return false;
    *v = m_->top_value();
    pending_ = true;
    count_++;
    return true;
  }
  // Skips the values the reducer did not read.
  Status Drain() {
    std::string_view v;
    while (Next(&v)) {
    }
    return status_;
  }
  int64_t count() const { return count_; }

 private:
  bool Advance() {
    if (pending_) {
      pending_ = false;
      Status s = m_->Pop();
      if (!s.ok()) {
        status_ = s;
        return false;
      }
    }
    return status_.ok();
  }
  RunMerger* m_;
  const std::string* key_;
  bool pending_ = false;
  int64_t count_ = 0;
  Status status_;
};

class PartWriter : public Emitter {
 public:
  Status Open(const std::string& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) return Status::IoError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    return Status::OK();
  }
  void Emit(std::string_view key, std::string_view value) override {
    line_.assign(key);
    line_.push_back('\t');
    line_.append(value);
    line_.push_back('\n');
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size() && status_.ok()) {
      status_ = Status::IoError(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
    }
    records_++;
    bytes_ += line_.size();
  }
  // Flushes, syncs and closes; the file is complete only when this succeeds.
  Status Close() {
    if (!file_) return status_;
    bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
    int err = errno;
    ok = (std::fclose(file_) == 0) && ok;
    file_ = nullptr;
    if (!ok && status_.ok()) status_ = Status::IoError(fmt::format("cannot write {}: {}", path_, std::strerror(err)));
    return status_;
  }
  ~PartWriter() override {
    if (file_) std::fclose(file_);
  }
  int64_t records() const { return records_; }
  int64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string line_;
  Status status_;
  int64_t records_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const Job& job,
                                   const ReduceOptions& options, ReduceFailure* failure) {
  MR_FAILPOINT("reduce.start");
  std::string attempt_name = AttemptDirName(task.job_id(), task.index(), task.attempt());
  std::string scratch = options.scratch_dir + "/" + attempt_name;
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", scratch, ec.message()));
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{scratch};

  ReduceResult result;
  // Copy phase: every map's partition into a local run file.
  std::map<std::string, std::unique_ptr<SyncClient>> clients;
  std::vector<std::string> runs;
  int64_t shuffle_bytes = 0;
  // A fetch that fails does not end the copy: the others go on, so one report tells the master
  // every output this attempt could not get (a host that failed once is not tried again).
  std::map<std::string, Status> dead_hosts;
  Status first_failure;
  for (const auto& loc : task.map_outputs()) {
    if (Cancelled(options)) return Status::Aborted("attempt cancelled");
    std::string path = fmt::format("{}/map-{:05}.run", scratch, loc.map_index());
    Status last;
    bool done = false;
    auto dead = dead_hosts.find(loc.address());
    for (int attempt = 0; attempt < kFetchTries && !done && dead == dead_hosts.end(); attempt++) {
      if (attempt > 0) std::this_thread::sleep_for(Millis(100 << attempt));  // back off, then retry
      auto& client = clients[loc.address()];
      if (!client) {
        auto hp = ParseHostPort(loc.address());
        if (!hp.ok()) return hp.status();
        auto c = SyncClient::Connect(*hp, proto::ROLE_SHUFFLE, options.token, kConnectTimeout);
        if (!c.ok()) {
          last = c.status();
          continue;
        }
        client = std::move(*c);
      }
      auto bytes = FetchOne(client.get(), task, loc, path);
      if (bytes.ok()) {
        shuffle_bytes += static_cast<int64_t>(*bytes);
        if (*bytes > 0) runs.push_back(path);
        done = true;
      } else {
        last = bytes.status();
        client.reset();
      }
    }
    if (done) continue;
    if (dead != dead_hosts.end()) last = dead->second;
    else if (last.code() == Status::Code::kUnavailable) dead_hosts[loc.address()] = last;
    failure->failed_maps.push_back(loc.map_index());
    failure->failed_fetches.push_back(loc);
    if (first_failure.ok()) {
      first_failure = Status::Unavailable(fmt::format("cannot fetch the output of map {} from {}: {}",
                                                      loc.map_index(), loc.address(), last.message()));
    }
  }
  if (!first_failure.ok()) {
    if (failure->failed_maps.size() == 1) return first_failure;
    return Status::Unavailable(fmt::format("{} (and {} more map outputs)", first_failure.message(),
                                           failure->failed_maps.size() - 1));
  }
  clients.clear();
  result.counters.Add(counter::kShuffleBytes, shuffle_bytes);
  MR_FAILPOINT("reduce.after_fetch");

  // Merge phase.
  RunMerger merger;
  size_t per_run = runs.empty() ? 0 : std::clamp<uint64_t>(options.merge_buffer_bytes / runs.size(), 16 << 10, 4 << 20);
  for (auto& r : runs) MR_RETURN_IF_ERROR(merger.Add(r, per_run));

  result.output_file = AttemptOutputFile(task.output_dir(), task.job_id(), task.index(), task.attempt());
  fs::path temp_dir = fs::path(result.output_file).parent_path();
  // Not create_directories: once the job has committed, _temporary is gone, and a late attempt
  // (a backup that lost) must fail here rather than bring it back into the output.
  fs::create_directory(temp_dir, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", temp_dir.string(), ec.message()));
  PartWriter out;
  MR_RETURN_IF_ERROR(out.Open(result.output_file));

  JobArgs args(task.args().begin(), task.args().end());
  std::string job_error;
  TaskContext ctx{&args, task.reducers(), &result.counters, &job_error};
  std::unique_ptr<Reducer> reducer = job.NewReducer(ctx);
  std::string key;
  int64_t groups = 0, records = 0;
  while (!merger.empty()) {
    if ((groups & 1023) == 0 && Cancelled(options)) return Status::Aborted("attempt cancelled");
    if (!job_error.empty()) return Status::Aborted(job_error);
    key.assign(merger.top_key());
    GroupIterator values(&merger, &key);
    reducer->Reduce(key, values, out);
    MR_RETURN_IF_ERROR(values.Drain());
    groups++;
    records += values.count();
  }
  reducer->Finish(out);
  if (!job_error.empty()) return Status::Aborted(job_error);
  MR_RETURN_IF_ERROR(out.Close());
  result.counters.Add(counter::kReduceInputGroups, groups);
  result.counters.Add(counter::kReduceInputRecords, records);
  result.counters.Add(counter::kReduceOutputRecords, out.records());
  result.counters.Add(counter::kReduceOutputBytes, out.bytes());
  return result;
}

}  // namespace mr
