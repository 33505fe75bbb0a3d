#include "worker/run_merger.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace mr {

Status RunMerger::Add(const std::string& path, size_t buffer_bytes) {
  auto c = std::make_unique<Cursor>();
  MR_RETURN_IF_ERROR(c->reader.Open(path, buffer_bytes));
  return Start(std::move(c));
}

Status RunMerger::AddSource(const std::string& name, RunFileReader::ChunkSource source) {
  auto c = std::make_unique<Cursor>();
  c->reader.OpenSource(name, std::move(source));
  return Start(std::move(c));
}

Status RunMerger::Start(std::unique_ptr<Cursor> c) {
  c->done = !c->reader.Next(&c->key, &c->value);
  MR_RETURN_IF_ERROR(c->reader.status());
  cursors_.push_back(std::move(c));
  built_ = false;
  return Status::OK();
}

bool RunMerger::Less(int a, int b) const {
  const Cursor& x = *cursors_[a];
  const Cursor& y = *cursors_[b];
  if (x.done || y.done) return !x.done || (y.done && a < b);
  int c = x.key.compare(y.key);
  return c != 0 ? c < 0 : a < b;
}

void RunMerger::Build() {
  built_ = true;
  const int k = static_cast<int>(cursors_.size());
  if (k == 0) return;
  losers_.assign(k, -1);
  std::vector<int> win(2 * k);
  for (int i = 0; i < k; i++) win[k + i] = i;
  for (int n = k - 1; n >= 1; n--) {
    int l = win[2 * n], r = win[2 * n + 1];
    if (Less(l, r)) {
      win[n] = l;
      losers_[n] = r;
    } else {
      win[n] = r;
      losers_[n] = l;
    }
  }
  winner_ = k == 1 ? 0 : win[1];
}

bool RunMerger::empty() {
  if (!built_) Build();
  return cursors_.empty() || cursors_[winner_]->done;
}

std::string_view RunMerger::top_key() { return cursors_[winner_]->key; }
std::string_view RunMerger::top_value() { return cursors_[winner_]->value; }

Status RunMerger::Pop() {
  Cursor& c = *cursors_[winner_];
  c.done = !c.reader.Next(&c.key, &c.value);
  MR_RETURN_IF_ERROR(c.reader.status());
  const int k = static_cast<int>(cursors_.size());
  int w = winner_;
  for (int n = (w + k) / 2; n >= 1; n /= 2) {
    if (Less(losers_[n], w)) std::swap(losers_[n], w);
  }
  winner_ = w;
  return Status::OK();
}

namespace {

// Merges runs[first, first + n) into `out`.
Status MergeInto(const std::vector<std::string>& runs, size_t first, size_t n, const std::string& out,
                 const MergePassOptions& o, uint64_t* written) {
  const size_t per_run = std::clamp<uint64_t>(o.buffer_bytes / (n + 1), 16 << 10, 4 << 20);
  RunMerger merger;
  for (size_t i = first; i < first + n; i++) MR_RETURN_IF_ERROR(merger.Add(runs[i], per_run));
  RunFileWriter writer;
  MR_RETURN_IF_ERROR(writer.Open(out, per_run, o.codec));
  for (uint64_t records = 0; !merger.empty(); records++) {
    if ((records & 4095) == 0 && o.cancel && o.cancel->load(std::memory_order_relaxed)) {
      return Status::Aborted("attempt cancelled");
    }
    writer.Append(merger.top_key(), merger.top_value());
    MR_RETURN_IF_ERROR(merger.Pop());
  }
  MR_RETURN_IF_ERROR(writer.Close());
  *written += writer.bytes();
  return Status::OK();
}

}  // namespace

Result<std::vector<std::string>> MergeToFactor(std::vector<std::string> runs, const MergePassOptions& options,
                                               MergePassStats* stats) {
  if (options.factor < 2) return Status::InvalidArgument(fmt::format("merge factor {} is below 2", options.factor));
  const size_t f = static_cast<size_t>(options.factor);
  MergePassStats local;
  if (!stats) stats = &local;
  int next_name = 0;
  while (runs.size() > f) {
    // One pass from left to right: merge groups of consecutive runs, each at most f and the last
    // only as large as needed for the pass to end with f runs (or, past f², fewer than before).
    std::vector<std::string> next;
    size_t i = 0;
    while (i < runs.size()) {
      const size_t left = next.size() + (runs.size() - i);  // runs after this pass if no more merges
      if (left <= f) {
        next.insert(next.end(), runs.begin() + static_cast<ptrdiff_t>(i), runs.end());
        break;
      }
      const size_t n = std::min({f, left - f + 1, runs.size() - i});
      if (n < 2) {  // a lone run left over in this pass
        next.push_back(runs[i++]);
        continue;
      }
      std::string out = fmt::format("{}/merged-{}", options.dir, next_name++);
      MR_RETURN_IF_ERROR(MergeInto(runs, i, n, out, options, &stats->bytes));
      stats->passes++;
      for (size_t j = i; j < i + n; j++) {
        std::error_code ec;
        std::filesystem::remove(runs[j], ec);  // only space: a run left behind goes with the dir
      }
      next.push_back(std::move(out));
      i += n;
    }
    runs = std::move(next);
  }
  return runs;
}

}  // namespace mr
