// A test plugin whose mapper names more distinct counters than any report can carry: each map
// attempt adds `counters` counters (default 70,000) with names of `name_bytes` bytes (default
// 1,000) -- 70 MB of counter names, more than a frame -- and counts words like wc-plugin otherwise.
#include <charconv>
#include <string>

#include "mr/job_api.h"

namespace {

class Mapper : public mr::Mapper {
 public:
  Mapper(size_t counters, size_t name_bytes, mr::Counters* c) : counters_(counters), name_bytes_(name_bytes), c_(c) {}
  void Map(const mr::InputRecord& record, mr::Emitter& out) override {
    size_t start = 0;
    std::string_view line = record.line;
    while (start < line.size()) {
      size_t end = line.find(' ', start);
      if (end == std::string_view::npos) end = line.size();
      if (end > start) out.Emit(line.substr(start, end - start), "1");
      start = end + 1;
    }
  }
  void Finish(mr::Emitter&) override {
    std::string name(name_bytes_, 'c');
    for (size_t i = 0; i < counters_; i++) {
      std::string n = std::to_string(i);
      c_->Add(name.substr(0, name_bytes_ > n.size() ? name_bytes_ - n.size() : 0) + n, 1);
    }
    c_->Add("flood.ok", 1);
  }

 private:
  size_t counters_, name_bytes_;
  mr::Counters* c_;
};

class Sum : public mr::Reducer {
 public:
  void Reduce(std::string_view key, mr::ValueIterator& values, mr::Emitter& out) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) sum++;
    out.Emit(key, std::to_string(sum));
  }
};

class CounterFlood : public mr::Job {
 public:
  CounterFlood(const mr::JobArgs& args, std::string*) {
    for (const auto& [key, value] : args) {
      size_t n = 0;
      std::from_chars(value.data(), value.data() + value.size(), n);
      if (key == "counters") counters_ = n;
      if (key == "name_bytes") name_bytes_ = n;
    }
  }
  std::unique_ptr<mr::Mapper> NewMapper(const mr::TaskContext& ctx) const override {
    return std::make_unique<Mapper>(counters_, name_bytes_, ctx.counters);
  }
  std::unique_ptr<mr::Reducer> NewReducer(const mr::TaskContext&) const override { return std::make_unique<Sum>(); }

 private:
  size_t counters_ = 70000;
  size_t name_bytes_ = 1000;
};

}  // namespace

MR_PLUGIN(CounterFlood)
