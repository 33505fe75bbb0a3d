#include "worker/reduce_task.h"

#include <sys/resource.h>
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
#include "worker/part_writer.h"
#include "worker/run_merger.h"
#include "worker/shuffle_fetch.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

constexpr int kParallelFetches = 4;
// Up to this many map outputs (and no more than the merge factor) are merged straight from the
// network, in chunks that keep all the streams within kStreamMemoryBytes; more are copied to local
// run files first.
constexpr int kMaxStreams = 128;
constexpr int kMinAutoFactor = 8;
constexpr uint64_t kStreamMemoryBytes = 128ull << 20;

bool Cancelled(const ReduceOptions& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

// The locations the failed maps were fetched from, for the master to tell today's location from an
// old one.
void NameFailedLocations(const std::vector<proto::MapOutputLocation>& outputs, ReduceFailure* failure) {
  failure->failed_fetches.clear();
  for (uint32_t m : failure->failed_maps) {
    for (const auto& loc : outputs) {
      if (loc.map_index() == m) failure->failed_fetches.push_back(loc);
    }
  }
}

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

int MergeFactorFor(int configured) {
  if (configured > 0) return std::max(2, configured);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return kMaxStreams;
  return static_cast<int>(std::clamp<rlim_t>(lim.rlim_cur / 16, kMinAutoFactor, kMaxStreams));
}

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const Job& job,
                                   const ReduceOptions& options, ReduceFailure* failure) {
  ReduceStep step = [&](RunMerger& merged, const std::string& output_file) {
    return ReduceMerged(task, job, merged, output_file, options.cancel, nullptr);
  };
  return RunReduceTask(task, step, options, failure);
}

Result<ReduceResult> RunReduceTask(const proto::AssignTask& task, const ReduceStep& step,
                                   const ReduceOptions& options, ReduceFailure* failure) {
  MR_FAILPOINT("reduce.start");
  std::string attempt_name = AttemptDirName(task.job_id(), task.index(), task.attempt());
  std::string scratch = options.scratch_dir + "/" + attempt_name;
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", scratch));
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{scratch};

  ReduceResult result;
  auto started = std::chrono::steady_clock::now();
  RunMerger merger;
  std::unique_ptr<FetchStreams> streams;
  int64_t fetched_bytes = 0, fetched_raw_bytes = 0;
  auto outputs = MapOutputsOf(task);
  if (!outputs.ok()) return outputs.status();
  const int maps = static_cast<int>(outputs->size());
  const int factor = MergeFactorFor(options.merge_factor);
  MergePassStats passes;
  if (maps <= std::min(kMaxStreams, factor)) {
    // Few enough map outputs: merge them while they arrive, one stream each (all on one event
    // loop), with no local copy. Every stream is opened at once; one that cannot be does not end
    // the attempt before the others were tried, so one report tells the master every output this
    // attempt could not get.
    Status first_failure;
    const uint64_t chunk = std::clamp<uint64_t>(kStreamMemoryBytes / (FetchStream::kStreamAhead + 2) / std::max(1, maps), 256 << 10, 4 << 20);
    if (Cancelled(options)) return Status::Aborted("attempt cancelled");
    streams = std::make_unique<FetchStreams>(options.tls);
    std::vector<Status> opened = streams->Open(task, *outputs, chunk);
    for (size_t i = 0; i < opened.size(); i++) {
      if (opened[i].ok()) continue;
      const auto& loc = (*outputs)[i];
      failure->failed_maps.push_back(loc.map_index());
      if (first_failure.ok()) {
        // Unavailable, unless this worker ran out of descriptors or memory to fetch with.
        std::string why = fmt::format("cannot fetch the output of map {} from {}: {}", loc.map_index(),
                                      loc.address(), opened[i].message());
        first_failure = opened[i].code() == Status::Code::kResourceExhausted ? opened[i].WithMessage(why)
                                                                             : Status::Unavailable(why);
      }
    }
    if (!first_failure.ok()) {
      NameFailedLocations(*outputs, failure);
      if (failure->failed_maps.size() == 1) return first_failure;
      return first_failure.WithMessage(
          fmt::format("{} (and {} more map outputs)", first_failure.message(), failure->failed_maps.size() - 1));
    }
    for (size_t i = 0; i < streams->size(); i++) {
      FetchStream* stream = &streams->stream(i);
      MR_RETURN_IF_ERROR(merger.AddSource(
          fmt::format("map {} from {}", stream->map_index(), stream->address()),
          [stream, failure](std::string* c) -> Result<bool> {
            auto more = stream->Next(c);
            if (more.ok()) return more;
            if (failure->failed_maps.empty()) failure->failed_maps.push_back(stream->map_index());
            if (more.status().code() == Status::Code::kCorruption) failure->corrupt = true;
            return Status::Unavailable(fmt::format("cannot fetch the output of map {} from {}: {}",
                                                   stream->map_index(), stream->address(), more.status().message()));
          }));
    }
  } else {
    // Copy phase: every map's partition into a local run file, several at once, then merge.
    FetchOptions fetch{scratch, options.tls, kParallelFetches, options.cancel};
    auto fetched = FetchMapOutputs(task, *outputs, fetch, &failure->failed_maps, &failure->corrupt);
    if (!fetched.ok()) {
      NameFailedLocations(*outputs, failure);
      return fetched.status();
    }
    fetched_bytes = fetched->bytes;
    fetched_raw_bytes = fetched->raw_bytes;
    MergePassOptions mo{factor, scratch, options.merge_buffer_bytes, options.cancel, CodecOf(task.intermediate_codec())};
    auto final_runs = MergeToFactor(std::move(fetched->runs), mo, &passes);
    if (!final_runs.ok()) return final_runs.status();
    const std::vector<std::string>& runs = *final_runs;
    size_t per_run = runs.empty() ? 0 : std::clamp<uint64_t>(options.merge_buffer_bytes / runs.size(), 16 << 10, 4 << 20);
    for (auto& r : runs) MR_RETURN_IF_ERROR(merger.Add(r, per_run));
  }
  auto copied = std::chrono::steady_clock::now();
  MR_FAILPOINT("reduce.after_fetch");

  result.output_file = AttemptOutputFile(task.output_dir(), task.job_id(), task.index(), task.attempt());
  fs::path temp_dir = fs::path(result.output_file).parent_path();
  // Not create_directories: once the job has committed, _temporary is gone, and a late attempt
  // (a backup that lost) must fail here rather than bring it back into the output.
  fs::create_directory(temp_dir, ec);
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", temp_dir.string()));
  auto reduced = step(merger, result.output_file);
  if (!reduced.ok()) return reduced.status();
  result.counters = std::move(*reduced);
  auto merged = std::chrono::steady_clock::now();
  for (size_t i = 0; streams && i < streams->size(); i++) {
    fetched_bytes += static_cast<int64_t>(streams->stream(i).bytes());
    fetched_raw_bytes += static_cast<int64_t>(streams->stream(i).raw_bytes());
  }
  result.counters.Add(counter::kShuffleBytes, fetched_bytes);
  result.counters.Add(counter::kShuffleRawBytes, fetched_raw_bytes);
  auto ms = [](auto a, auto b) { return std::chrono::duration_cast<Millis>(b - a).count(); };
  spdlog::info("reduce {} of job {}: {} {} bytes of {} map outputs in {} ms ({} intermediate merges of {} bytes, "
               "factor {}), merged, reduced and wrote {} bytes in {} ms", task.index(), task.job_id(),
               !streams ? "copied" : "opened streams for", fetched_bytes, maps, ms(started, copied),
               passes.passes, passes.bytes, factor, result.counters.Get(counter::kReduceOutputBytes),
               ms(copied, merged));
  return result;
}

Result<CounterSet> ReduceMerged(const proto::AssignTask& task, const Job& job, RunMerger& merger,
                                const std::string& output_file, const std::atomic<bool>* cancel,
                                ProgressSlot* slot) {
  CounterSet counters;
  PartWriter out(job.RawOutput());
  MR_RETURN_IF_ERROR(out.Open(output_file));
  JobArgs args(task.args().begin(), task.args().end());
  std::string job_error;
  TaskContext ctx{&args, task.reducers(), &counters, &job_error};
  std::unique_ptr<Reducer> reducer = job.NewReducer(ctx);
  std::string key;
  int64_t groups = 0, records = 0;
  while (!merger.empty()) {
    if ((groups & 1023) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
      return Status::Aborted("attempt cancelled");
    }
    if (!job_error.empty()) return Status::Aborted(job_error);
    key.assign(merger.top_key());
    GroupIterator values(&merger, &key);
    if (slot) slot->Tick();
    reducer->Reduce(key, values, out);
    MR_RETURN_IF_ERROR(values.Drain());
    groups++;
    records += values.count();
  }
  reducer->Finish(out);
  if (!job_error.empty()) return Status::Aborted(job_error);
  MR_RETURN_IF_ERROR(out.Close());
  counters.Add(counter::kReduceInputGroups, groups);
  counters.Add(counter::kReduceInputRecords, records);
  counters.Add(counter::kReduceOutputRecords, out.records());
  counters.Add(counter::kReduceOutputBytes, out.bytes());
  return counters;
}

}  // namespace mr
