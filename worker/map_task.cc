#include "worker/map_task.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <thread>
#include <vector>

#include "common/failpoint.h"
#include "common/gzip.h"
#include "common/line_reader.h"
#include "common/mapped_file.h"
#include "common/output_layout.h"
#include "worker/map_output.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

struct ThreadState {
  CounterSet counters;
  std::string error;  // set by the job through TaskContext::Fail
  std::optional<proto::SkippedRecord> bad;  // the record a failed mapper traced its failure to
  std::unique_ptr<MapOutputBuffer> buffer;
  Status status;
};

// One input range opened for reading: its bytes (mapped, or a .gz inflated) and the bytes it owns.
struct Source {
  std::unique_ptr<MappedFile> mapped;
  std::string inflated;
  uint64_t size = 0;  // of the file as it was at submission (a mapping may hold appended bytes)
  ByteRange owned;
  // Computed, never stored: moving a Source moves a short `inflated` string's bytes.
  std::string_view data() const {
    return mapped ? mapped->data().substr(0, size) : std::string_view(inflated);
  }
};

Result<Source> OpenSource(const proto::InputSplit& split, uint64_t rsize) {
  Source src;
  const bool gzipped = IsGzipPath(split.path());
  if (gzipped) {
    auto text = ReadGzipFile(split.path());
    if (!text.ok()) return text.status();
    src.inflated = std::move(*text);
  } else {
    auto file = MappedFile::Open(split.path());
    if (!file.ok()) return file.status();
    src.mapped = std::move(*file);
    const uint64_t now = src.mapped->data().size();
    if (split.offset() + split.length() > now || split.file_size() > now) {
      return Status::IoError(fmt::format("{} is {} bytes, shorter than when the job was split", split.path(), now));
    }
    // Bytes appended after submission are not part of the job, not even to end its last line.
    src.size = split.file_size() > 0 ? split.file_size() : now;
  }
  const std::string_view data = src.data();
  if (rsize > 0) {
    if (data.size() % rsize != 0) {
      return Status::InvalidArgument(fmt::format("input {} holds {} bytes, not a whole number of {}-byte records",
                                                 split.path(), data.size(), rsize));
    }
    if (!gzipped && (split.offset() % rsize != 0 || split.length() % rsize != 0)) {
      return Status::InvalidArgument(fmt::format("split {}+{} of {} is not on {}-byte record boundaries",
                                                 split.offset(), split.length(), split.path(), rsize));
    }
    src.owned = gzipped ? ByteRange{0, data.size()} : ByteRange{split.offset(), split.offset() + split.length()};
  } else {
    src.owned = gzipped ? ByteRange{0, data.size()} : OwnedRange(data, split.offset(), split.offset() + split.length());
  }
  if (src.mapped) src.mapped->AdviseSequential(src.owned.begin, src.owned.end - src.owned.begin);
  return src;
}

// A thread's share of the task: bytes [begin, end) of one source.
struct Share {
  size_t part = 0;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Where in the split a record a mapper named is: its part (among a thread's shares) and offset.
std::optional<proto::SkippedRecord> PartOf(const std::vector<const proto::InputSplit*>& parts,
                                           const std::vector<Share>& shares, const BlamingMapper::Record& rec) {
  for (const Share& sh : shares) {
    const proto::InputSplit& p = *parts[sh.part];
    if (p.path() != rec.file) continue;
    if (!IsGzipPath(p.path()) && (rec.offset < p.offset() || rec.offset > p.offset() + p.length())) continue;
    proto::SkippedRecord r;
    r.set_part(static_cast<uint32_t>(sh.part));
    r.set_offset(rec.offset);
    return r;
  }
  return std::nullopt;
}

// A map-only job's map attempt's part file, OUT/_temporary/job-J-m-NNNNN-aA/part-m-NNNNN, with its
// directory made. Not create_directories: once the job has committed, _temporary is gone, and a
// late attempt (a backup that lost) must fail here rather than bring it back into the output.
Result<std::string> CreatePartFile(const proto::AssignTask& task) {
  if (task.output_dir().empty()) return Status::InvalidArgument("a map-only job's map was given no output directory");
  std::string file = AttemptOutputFile(task.output_dir(), task.job_id(), task.index(), task.attempt(), PartKind::kMap);
  std::error_code ec;
  const fs::path dir = fs::path(file).parent_path();
  fs::create_directory(dir, ec);
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", dir.string()));
  return file;
}

// Appends each of `files` to `to` in order (in the kernel: copy_file_range), removes them, and
// syncs `to`.
Status AppendFiles(const std::string& to, const std::vector<std::string>& files) {
  if (files.empty()) return Status::OK();
  int out = ::open(to.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) return Status::IoError(fmt::format("cannot open {}: {}", to, std::strerror(errno)));
  Status s;
  off_t at = ::lseek(out, 0, SEEK_END);
  for (const std::string& f : files) {
    int in = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      s = Status::IoError(fmt::format("cannot open {}: {}", f, std::strerror(errno)));
      break;
    }
    while (s.ok()) {
      ssize_t n = ::copy_file_range(in, nullptr, out, &at, 64u << 20, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = Status::IoError(fmt::format("cannot append {} to {}: {}", f, to, std::strerror(errno)));
      if (n <= 0) break;
    }
    ::close(in);
    ::unlink(f.c_str());
    if (!s.ok()) break;
  }
  if (s.ok() && ::fsync(out) != 0) s = Status::IoError(fmt::format("cannot write {}: {}", to, std::strerror(errno)));
  ::close(out);
  return s;
}

}  // namespace

Result<CounterSet> RunMapTask(const proto::AssignTask& task, const Job& job,
                              SpillStore* store, const MapOptions& options) {
  MR_FAILPOINT("map.start");
  auto record_size = ParseInputFormat(task.input_format());
  if (!record_size.ok()) return record_size.status();
  const uint64_t rsize = *record_size;  // 0: lines
  if (rsize == 0 && !task.job_lib().empty() && job.InputFormat() != "lines") {
    return Status::InvalidArgument(fmt::format("job reads {}, but was submitted with lines: pass --input-format {}",
                                               job.InputFormat(), job.InputFormat()));
  }
  // A combined split's parts are read in order, each opened when its turn comes; a single range is
  // opened once and shared by the threads.
  std::vector<const proto::InputSplit*> parts;
  for (const proto::InputSplit& p : task.split().parts()) parts.push_back(&p);
  if (parts.empty()) parts.push_back(&task.split());
  uint64_t split_bytes = 0;
  for (const proto::InputSplit* p : parts) split_bytes += p->length();

  int threads = std::max(1, options.threads);
  // Small splits are not worth a thread each.
  if (split_bytes < (1u << 20)) threads = 1;
  if (parts.size() > 1) threads = static_cast<int>(std::min<size_t>(threads, parts.size()));
  std::optional<Source> shared;
  std::vector<std::vector<Share>> shares(threads);
  if (parts.size() == 1) {
    auto src = OpenSource(*parts[0], rsize);
    if (!src.ok()) return src.status();
    shared = std::move(*src);
    // Thread t reads the lines (records) that start in its share of the owned bytes (for a .gz
    // file, of its decompressed bytes).
    const ByteRange owned = shared->owned;
    uint64_t span = owned.end - owned.begin;
    threads = span < (1u << 20) ? 1 : std::max(1, options.threads);
    shares.assign(threads, {});
    for (int t = 0; t < threads; t++) {
      uint64_t b = owned.begin + span * t / threads;
      uint64_t e = owned.begin + span * (t + 1) / threads;
      if (rsize > 0) {
        b = owned.begin + (span / rsize) * t / threads * rsize;
        e = owned.begin + (span / rsize) * (t + 1) / threads * rsize;
      }
      shares[t].push_back({0, b, e});
    }
  } else {
    // Whole parts to threads, in runs of about equal bytes; a part's range is its own (begin/end
    // are filled in when it is opened).
    uint64_t before = 0;
    for (size_t i = 0; i < parts.size(); i++) {
      int t = static_cast<int>(split_bytes == 0 ? 0 : std::min<uint64_t>(threads - 1, before * threads / split_bytes));
      shares[t].push_back({i, 0, 0});
      before += parts[i]->length();
    }
  }

  // Bad records the master has this attempt skip (--skip-bad-records), by part, in offset order.
  std::vector<std::vector<uint64_t>> skip(parts.size());
  for (const proto::SkippedRecord& r : task.skip_records()) {
    if (r.part() < skip.size()) skip[r.part()].push_back(r.offset());
  }
  for (auto& offsets : skip) std::sort(offsets.begin(), offsets.end());
  const bool skipping = task.skip_records_size() > 0;
  std::atomic<int64_t> skipped{0};

  // A map-only job's map (reducers 0) writes its part itself: thread t its own file, joined in
  // thread order at the end (the threads' shares are in input order).
  const bool map_only = task.reducers() == 0;
  std::string part_file;
  if (map_only) {
    auto file = CreatePartFile(task);
    if (!file.ok()) return file.status();
    part_file = std::move(*file);
  }
  auto thread_file = [&](int t) { return t == 0 ? part_file : fmt::format("{}.{}", part_file, t); };

  MapOutputId id{task.job_id(), task.index(), task.attempt()};
  std::atomic<uint32_t> next_spill{0};
  std::unique_ptr<Partitioner> partitioner = job.NewPartitioner();
  SpillTarget target{store, id, &next_spill, task.reducers(), partitioner.get(), CodecOf(task.intermediate_codec())};
  JobArgs args(task.args().begin(), task.args().end());

  uint64_t budget = std::max<uint64_t>(options.buffer_bytes / threads, 1 << 20);
  std::vector<ThreadState> states(threads);
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> owned_bytes{0};

  auto map_share = [&](int t) {
    ThreadState& st = states[t];
    ProgressSlot* slot = TaskProgress::Enter(options.progress, t % TaskProgress::kSlots);
    TaskContext ctx{&args, task.reducers(), &st.counters, &st.error};
    std::unique_ptr<Mapper> mapper = job.NewMapper(ctx);
    auto* blaming = task.skip_bad_records() > 0 ? dynamic_cast<BlamingMapper*>(mapper.get()) : nullptr;
    if (blaming != nullptr) blaming->KeepRecords();
    if (map_only) {
      st.buffer = NewPartBuffer(thread_file(t), job.RawOutput(), &st.counters);
    } else if (job.SumCombiner()) {
      st.buffer = NewSumBuffer(target, budget, &st.counters);
    } else {
      CombinerFactory new_combiner;
      if (job.NewCombiner(ctx) != nullptr) new_combiner = [&job, ctx] { return job.NewCombiner(ctx); };
      st.buffer = NewSortBuffer(target, budget, std::move(new_combiner), &st.counters);
    }
    int64_t lines = 0;
    auto abandoned = [&] {
      return failed.load(std::memory_order_relaxed) || !st.error.empty() ||
             (options.cancel && options.cancel->load(std::memory_order_relaxed));
    };
    // Blocks of about 4 MiB of whole lines: a mapper with MapBlock takes each at once; otherwise
    // its lines go to Map() one by one. Between blocks the attempt checks whether to give up.
    const uint64_t kBlock = rsize > 0 ? std::max<uint64_t>(rsize, (4u << 20) / rsize * rsize) : 4u << 20;
    // A job that skips bad records gives its mapper records one by one: a bad one is then known.
    bool blocks = task.skip_bad_records() == 0 && !skipping;
    // True when the record at `offset` of part `part` is one to skip (counted).
    auto skip_record = [&](size_t part, uint64_t offset) {
      if (!skipping || !std::binary_search(skip[part].begin(), skip[part].end(), offset)) return false;
      skipped++;
      return true;
    };
    for (Share share : shares[t]) {
      if (abandoned()) break;
      std::optional<Source> own;
      if (!shared) {
        auto src = OpenSource(*parts[share.part], rsize);
        if (!src.ok()) {
          st.status = src.status();
          failed = true;
          return;
        }
        own = std::move(*src);
        share.begin = own->owned.begin;
        share.end = own->owned.end;
        owned_bytes += share.end - share.begin;
      }
      const std::string_view data = shared ? shared->data() : own->data();
      const std::string& path = parts[share.part]->path();
      const uint64_t b = share.begin, e = share.end;
      InputRecord rec;
      rec.file = path;
      for (uint64_t cb = b; cb < e && !abandoned() && rsize > 0; cb += kBlock) {
        // Fixed-length records: a block is whole records, so no search for boundaries.
        uint64_t ce = std::min(e, cb + kBlock);
        std::string_view text = data.substr(cb, ce - cb);
        lines += static_cast<int64_t>(text.size() / rsize);
        if (blocks && slot) slot->Record(static_cast<uint32_t>(share.part), cb, /*block=*/true);
        if (blocks && mapper->MapBlock({path, cb, text}, *st.buffer)) {
          if (slot) slot->Leave();
          continue;
        }
        blocks = false;
        for (uint64_t off = 0; off < text.size(); off += rsize) {
          rec.offset = cb + off;
          rec.line = text.substr(off, rsize);
          if (skip_record(share.part, rec.offset)) continue;
          if (slot) slot->Record(static_cast<uint32_t>(share.part), rec.offset);
          mapper->Map(rec, *st.buffer);
          if (slot) slot->Leave();
        }
      }
      for (uint64_t cb = b; cb < e && !abandoned() && rsize == 0; cb += kBlock) {
        ByteRange r = OwnedRange(data, cb, std::min(e, cb + kBlock));
        if (r.empty()) continue;
        std::string_view text = data.substr(r.begin, r.end - r.begin);
        if (blocks && slot) slot->Record(static_cast<uint32_t>(share.part), r.begin, /*block=*/true);
        if (blocks && mapper->MapBlock({path, r.begin, text}, *st.buffer)) {
          if (slot) slot->Leave();
          lines += std::count(text.begin(), text.end(), '\n') + (text.back() != '\n');
          continue;
        }
        blocks = false;
        ForEachOwnedLine(data, r.begin, r.end, [&](uint64_t offset, std::string_view line) {
          lines++;
          rec.offset = offset;
          rec.line = line;
          if (skip_record(share.part, offset)) return;
          if (slot) slot->Record(static_cast<uint32_t>(share.part), offset);
          mapper->Map(rec, *st.buffer);
          if (slot) slot->Leave();
        });
      }
    }
    mapper->Finish(*st.buffer);
    if (blaming != nullptr && !st.error.empty()) {
      if (auto rec = blaming->Blame([slot] { if (slot) slot->Tick(); })) st.bad = PartOf(parts, shares[t], *rec);
    }
    st.counters.Add(counter::kMapInputRecords, lines);
    st.status = !st.error.empty() ? Status::Aborted(st.error) : st.buffer->status();
    if (!st.status.ok()) failed = true;
  };
  // A C++ exception escaping the job's code fails the attempt with its message (it would end the
  // process otherwise).
  auto work = [&](int t) {
    Status s = CatchJobExceptions([&] {
      map_share(t);
      return Status::OK();
    });
    if (!s.ok()) {
      states[t].status = s;
      failed = true;
    }
  };

  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();

  if (options.cancel && options.cancel->load()) return Status::Aborted("attempt cancelled");
  MR_FAILPOINT("map.after_read");
  CounterSet total;
  for (auto& st : states) {
    if (st.status.ok()) continue;
    if (st.bad && options.bad_record != nullptr) *options.bad_record = *st.bad;
    return st.status;
  }
  // Sum-combined tables are merged before spilling: one spill per task, not one per thread.
  if (job.SumCombiner() && !map_only) {
    for (int t = 1; t < threads; t++) MergeSumBuffers(states[0].buffer.get(), states[t].buffer.get());
  }
  for (auto& st : states) {
    Status s = st.buffer->Flush();
    if (!s.ok()) return s;
    total.Merge(st.counters);
  }
  if (shared) owned_bytes = shared->owned.end - shared->owned.begin;
  total.Add(counter::kMapInputBytes, static_cast<int64_t>(owned_bytes.load()));
  if (skipping) total.Add(counter::kRecordsSkipped, skipped.load());
  if (map_only) {
    std::vector<std::string> rest;
    for (int t = 1; t < threads; t++) rest.push_back(thread_file(t));
    MR_RETURN_IF_ERROR(AppendFiles(part_file, rest));
    return total;
  }
  MR_RETURN_IF_ERROR(store->MarkMapOutputComplete(id));
  return total;
}

}  // namespace mr
