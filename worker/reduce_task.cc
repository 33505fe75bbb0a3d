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
#include "common/sync_client.h"
#include "worker/part_writer.h"
#include "worker/run_merger.h"
#include "worker/shuffle_fetch.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

constexpr int kParallelFetches = 4;

bool Cancelled(const ReduceOptions& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

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

}  // namespace

std::string PartFileName(uint32_t partition) { return fmt::format("part-r-{:05}", partition); }

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const Job& job,
                                   const ReduceOptions& options, ReduceFailure* failure) {
  MR_FAILPOINT("reduce.start");
  std::string attempt_name = fmt::format("job-{}-r-{:05}-a{}", task.job_id(), task.index(), task.attempt());
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
  // Copy phase: every map's partition into a local run file, several at once.
  auto started = std::chrono::steady_clock::now();
  FetchOptions fetch{scratch, options.token, kParallelFetches, options.cancel};
  auto fetched = FetchMapOutputs(task, fetch, &failure->failed_maps);
  if (!fetched.ok()) return fetched.status();
  const std::vector<std::string>& runs = fetched->runs;
  result.counters.Add(counter::kShuffleBytes, fetched->bytes);
  auto copied = std::chrono::steady_clock::now();
  MR_FAILPOINT("reduce.after_fetch");

  // Merge phase.
  RunMerger merger;
  size_t per_run = runs.empty() ? 0 : std::clamp<uint64_t>(options.merge_buffer_bytes / runs.size(), 16 << 10, 4 << 20);
  for (auto& r : runs) MR_RETURN_IF_ERROR(merger.Add(r, per_run));

  fs::path temp_dir = fs::path(task.output_dir()) / "_temporary" / attempt_name;
  // Not create_directories: once the job has committed, _temporary is gone, and a late attempt
  // (a backup that lost) must fail here rather than bring it back into the output.
  fs::create_directory(temp_dir, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", temp_dir.string(), ec.message()));
  result.output_file = (temp_dir / PartFileName(task.index())).string();
  PartWriter out(job.RawOutput());
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
  auto merged = std::chrono::steady_clock::now();
  MR_RETURN_IF_ERROR(out.Close());
  auto ms = [](auto a, auto b) { return std::chrono::duration_cast<Millis>(b - a).count(); };
  spdlog::info("reduce {} of job {}: copied {} bytes of {} runs in {} ms, merged and wrote {} bytes in {} ms, synced in {} ms",
               task.index(), task.job_id(), fetched->bytes, runs.size(), ms(started, copied), out.bytes(),
               ms(copied, merged), ms(merged, std::chrono::steady_clock::now()));
  result.counters.Add(counter::kReduceInputGroups, groups);
  result.counters.Add(counter::kReduceInputRecords, records);
  result.counters.Add(counter::kReduceOutputRecords, out.records());
  result.counters.Add(counter::kReduceOutputBytes, out.bytes());
  return result;
}

}  // namespace mr
