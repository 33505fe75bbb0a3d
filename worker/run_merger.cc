#include "worker/run_merger.h"

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

}  // namespace mr
