#include "jobs/topn.h"

#include <algorithm>
#include <charconv>

#include "jobs/job_args.h"

namespace mr {
namespace topn {

bool ParseLine(std::string_view line, std::string_view* key, int64_t* number) {
  size_t tab = line.rfind('\t');
  if (tab == std::string_view::npos) return false;
  std::string_view digits = line.substr(tab + 1);
  // from_chars accepts a leading '-' but no '+' or spaces; it must consume everything.
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *number);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  *key = line.substr(0, tab);
  return true;
}

namespace {
struct WorseFirst {
  // The heap's "less than": a ranks before b, so the top of the heap is the entry ranking last.
  bool operator()(const Entry& a, const Entry& b) const {
    return RanksBefore(a.number, a.key, b.number, b.key);
  }
};
}  // namespace

void TopN::Offer(int64_t number, std::string_view key) {
  if (n_ == 0) return;
  if (heap_.size() < n_) {
    heap_.push_back(Entry{number, std::string(key)});
    std::push_heap(heap_.begin(), heap_.end(), WorseFirst());
    return;
  }
  const Entry& worst = heap_.front();
  if (!RanksBefore(number, key, worst.number, worst.key)) return;
  std::pop_heap(heap_.begin(), heap_.end(), WorseFirst());
  heap_.back().number = number;
  heap_.back().key.assign(key);
  std::push_heap(heap_.begin(), heap_.end(), WorseFirst());
}

std::vector<Entry> TopN::TakeSorted() {
  std::vector<Entry> out = std::move(heap_);
  heap_.clear();
  std::sort(out.begin(), out.end(), WorseFirst());
  return out;
}

}  // namespace topn

namespace {

// The one intermediate key; its value is NUMBER<TAB>KEY.
constexpr std::string_view kTopKey = "top";

void EmitCandidates(topn::TopN& top, Emitter& out) {
  std::string value;
  char digits[24];
  for (const topn::Entry& e : top.TakeSorted()) {
    auto r = std::to_chars(digits, digits + sizeof(digits), e.number);
    value.assign(digits, r.ptr);
    value.push_back('\t');
    value += e.key;
    out.Emit(kTopKey, value);
  }
}

class TopNMapper : public Mapper {
 public:
  TopNMapper(size_t n, Counters* counters) : top_(n), counters_(counters) {}
  void Map(const InputRecord& record, Emitter& out) override {
    std::string_view key;
    int64_t number;
    if (!topn::ParseLine(record.line, &key, &number)) {
      if (counters_) counters_->Add(kTopNMalformedCounter, 1);
      return;
    }
    top_.Offer(number, key);
  }
  void Finish(Emitter& out) override { EmitCandidates(top_, out); }

 private:
  topn::TopN top_;
  Counters* const counters_;
};

// Sees every mapper's candidates under the one key and writes the global top N.
class TopNReducer : public Reducer {
 public:
  explicit TopNReducer(size_t n) : n_(n) {}
  void Reduce(std::string_view, ValueIterator& values, Emitter& out) override {
    topn::TopN top(n_);
    std::string_view v;
    while (values.Next(&v)) {
      size_t tab = v.find('\t');
      int64_t number = 0;
      if (tab == std::string_view::npos) continue;  // not written by TopNMapper
      auto r = std::from_chars(v.data(), v.data() + tab, number);
      if (r.ec != std::errc() || r.ptr != v.data() + tab) continue;
      top.Offer(number, v.substr(tab + 1));
    }
    char digits[24];
    for (const topn::Entry& e : top.TakeSorted()) {
      auto r = std::to_chars(digits, digits + sizeof(digits), e.number);
      out.Emit(e.key, std::string_view(digits, r.ptr - digits));
    }
  }

 private:
  const size_t n_;
};

class FirstReducer : public Partitioner {
 public:
  uint32_t Partition(std::string_view, uint32_t) const override { return 0; }
};

class TopNJob : public Job {
 public:
  explicit TopNJob(size_t n) : n_(n) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<TopNMapper>(n_, ctx.counters);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override {
    return std::make_unique<TopNReducer>(n_);
  }
  std::unique_ptr<Partitioner> NewPartitioner() const override { return std::make_unique<FirstReducer>(); }

 private:
  const size_t n_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeTopN(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("topn", args, {"n"}));
  auto n = GetIntArg(args, "n", 10, 1, 10'000'000);
  if (!n.ok()) return n.status();
  return std::unique_ptr<Job>(new TopNJob(static_cast<size_t>(*n)));
}

}  // namespace mr
