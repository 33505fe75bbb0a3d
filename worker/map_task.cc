#include "worker/map_task.h"

#include <algorithm>
#include <fmt/format.h>
#include <thread>
#include <vector>

#include "common/failpoint.h"
#include "common/gzip.h"
#include "common/line_reader.h"
#include "common/mapped_file.h"
#include "worker/map_output.h"

namespace mr {
namespace {

struct ThreadState {
  CounterSet counters;
  std::string error;  // set by the job through TaskContext::Fail
  std::unique_ptr<MapOutputBuffer> buffer;
  Status status;
};

}  // namespace

Result<CounterSet> RunMapTask(const proto::AssignTask& task, const Job& job,
                              IntermediateStore* store, const MapOptions& options) {
  MR_FAILPOINT("map.start");
  const proto::InputSplit& split = task.split();
  auto record_size = ParseInputFormat(task.input_format());
  if (!record_size.ok()) return record_size.status();
  const uint64_t rsize = *record_size;  // 0: lines
  if (rsize == 0 && !task.job_lib().empty() && job.InputFormat() != "lines") {
    return Status::InvalidArgument(fmt::format("job reads {}, but was submitted with lines: pass --input-format {}",
                                               job.InputFormat(), job.InputFormat()));
  }
  std::string_view data;
  std::unique_ptr<MappedFile> mapped;
  std::string inflated;  // a .gz split (the whole file), decompressed
  const bool gzipped = IsGzipPath(split.path());
  if (gzipped) {
    auto text = ReadGzipFile(split.path());
    if (!text.ok()) return text.status();
    inflated = std::move(*text);
    data = inflated;
  } else {
    auto file = MappedFile::Open(split.path());
    if (!file.ok()) return file.status();
    mapped = std::move(*file);
    data = mapped->data();
    if (split.offset() + split.length() > data.size()) {
      return Status::IoError(fmt::format("{} is {} bytes, shorter than when the job was split", split.path(),
                                         data.size()));
    }
  }
  ByteRange owned;
  if (rsize > 0) {
    if (data.size() % rsize != 0) {
      return Status::InvalidArgument(fmt::format("input {} holds {} bytes, not a whole number of {}-byte records",
                                                 split.path(), data.size(), rsize));
    }
    if (!gzipped && (split.offset() % rsize != 0 || split.length() % rsize != 0)) {
      return Status::InvalidArgument(fmt::format("split {}+{} of {} is not on {}-byte record boundaries",
                                                 split.offset(), split.length(), split.path(), rsize));
    }
    owned = gzipped ? ByteRange{0, data.size()} : ByteRange{split.offset(), split.offset() + split.length()};
  } else {
    owned = gzipped ? ByteRange{0, data.size()} : OwnedRange(data, split.offset(), split.offset() + split.length());
  }
  if (mapped) mapped->AdviseSequential(owned.begin, owned.end - owned.begin);

  MapOutputId id{task.job_id(), task.index(), task.attempt()};
  std::atomic<uint32_t> next_spill{0};
  std::unique_ptr<Partitioner> partitioner = job.NewPartitioner();
  SpillTarget target{store, id, &next_spill, task.reducers(), partitioner.get()};
  JobArgs args(task.args().begin(), task.args().end());

  int threads = std::max(1, options.threads);
  // Small splits are not worth a thread each.
  if (owned.end - owned.begin < (1u << 20)) threads = 1;
  uint64_t budget = std::max<uint64_t>(options.buffer_bytes / threads, 1 << 20);
  std::vector<ThreadState> states(threads);
  std::atomic<bool> failed{false};

  auto work = [&](int t) {
    ThreadState& st = states[t];
    TaskContext ctx{&args, task.reducers(), &st.counters, &st.error};
    std::unique_ptr<Mapper> mapper = job.NewMapper(ctx);
    if (job.SumCombiner()) {
      st.buffer = NewSumBuffer(target, budget, &st.counters);
    } else {
      CombinerFactory new_combiner;
      if (job.NewCombiner(ctx) != nullptr) new_combiner = [&job, ctx] { return job.NewCombiner(ctx); };
      st.buffer = NewSortBuffer(target, budget, std::move(new_combiner), &st.counters);
    }
    // Thread t reads the lines (records) that start in its share of the owned bytes.
    uint64_t span = owned.end - owned.begin;
    uint64_t b = owned.begin + span * t / threads;
    uint64_t e = owned.begin + span * (t + 1) / threads;
    if (rsize > 0) {
      b = owned.begin + (span / rsize) * t / threads * rsize;
      e = owned.begin + (span / rsize) * (t + 1) / threads * rsize;
    }
    int64_t lines = 0;
    InputRecord rec;
    rec.file = split.path();
    auto abandoned = [&] {
      return failed.load(std::memory_order_relaxed) || !st.error.empty() ||
             (options.cancel && options.cancel->load(std::memory_order_relaxed));
    };
    // Blocks of about 4 MiB of whole lines: a mapper with MapBlock takes each at once; otherwise
    // its lines go to Map() one by one. Between blocks the attempt checks whether to give up.
    const uint64_t kBlock = rsize > 0 ? std::max<uint64_t>(rsize, (4u << 20) / rsize * rsize) : 4u << 20;
    bool blocks = true;
    for (uint64_t cb = b; cb < e && !abandoned() && rsize > 0; cb += kBlock) {
      // Fixed-length records: a block is whole records, so no search for boundaries.
      uint64_t ce = std::min(e, cb + kBlock);
      std::string_view text = data.substr(cb, ce - cb);
      lines += static_cast<int64_t>(text.size() / rsize);
      if (blocks && mapper->MapBlock({split.path(), cb, text}, *st.buffer)) continue;
      blocks = false;
      for (uint64_t off = 0; off < text.size(); off += rsize) {
        rec.offset = cb + off;
        rec.line = text.substr(off, rsize);
        mapper->Map(rec, *st.buffer);
      }
    }
    for (uint64_t cb = b; cb < e && !abandoned() && rsize == 0; cb += kBlock) {
      ByteRange r = OwnedRange(data, cb, std::min(e, cb + kBlock));
      if (r.empty()) continue;
      std::string_view text = data.substr(r.begin, r.end - r.begin);
      if (blocks && mapper->MapBlock({split.path(), r.begin, text}, *st.buffer)) {
        lines += std::count(text.begin(), text.end(), '\n') + (text.back() != '\n');
        continue;
      }
      blocks = false;
      ForEachOwnedLine(data, r.begin, r.end, [&](uint64_t offset, std::string_view line) {
        lines++;
        rec.offset = offset;
        rec.line = line;
        mapper->Map(rec, *st.buffer);
      });
    }
    mapper->Finish(*st.buffer);
    st.counters.Add(counter::kMapInputRecords, lines);
    st.status = !st.error.empty() ? Status::Aborted(st.error) : st.buffer->status();
    if (!st.status.ok()) failed = true;
  };

  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();

  if (options.cancel && options.cancel->load()) return Status::Aborted("attempt cancelled");
  MR_FAILPOINT("map.after_read");
  CounterSet total;
  for (auto& st : states) {
    if (!st.status.ok()) return st.status;
  }
  // Sum-combined tables are merged before spilling: one spill per task, not one per thread.
  if (job.SumCombiner()) {
    for (int t = 1; t < threads; t++) MergeSumBuffers(states[0].buffer.get(), states[t].buffer.get());
  }
  for (auto& st : states) {
    Status s = st.buffer->Flush();
    if (!s.ok()) return s;
    total.Merge(st.counters);
  }
  total.Add(counter::kMapInputBytes, static_cast<int64_t>(owned.end - owned.begin));
  MR_RETURN_IF_ERROR(store->MarkMapOutputComplete(id));
  return total;
}

}  // namespace mr
