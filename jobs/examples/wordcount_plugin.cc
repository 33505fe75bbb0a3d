// An example plugin: word count written against the public job API (mr/job_api.h) alone. Build it
// as a shared library outside the tree and run it with
//   g++ -std=c++20 -O2 -shared -fPIC -I jobs/public wordcount_plugin.cc -o my_job.so
//   mr run --job wc-plugin --job-lib ./my_job.so --input ... --output ...
// Arguments: min_length=N counts only words of at least N bytes (default 1). It also shows a user
// counter, "plugin.long_words".
#include <charconv>
#include <string>

#include "mr/job_api.h"

namespace {

class Mapper : public mr::Mapper {
 public:
  Mapper(size_t min_length, mr::Counters* counters) : min_length_(min_length), counters_(counters) {}
  void Map(const mr::InputRecord& record, mr::Emitter& out) override {
    mr::words::ForEach(record.line, [&](std::string_view word) {
      if (word.size() < min_length_) return;
      if (word.size() >= 10) long_words_++;
      out.Emit(word, "1");
    });
  }
  void Finish(mr::Emitter&) override { counters_->Add("plugin.long_words", long_words_); }

 private:
  size_t min_length_;
  mr::Counters* counters_;
  int64_t long_words_ = 0;
};

class Sum : public mr::Reducer {
 public:
  void Reduce(std::string_view key, mr::ValueIterator& values, mr::Emitter& out) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      sum += n;
    }
    out.Emit(key, std::to_string(sum));
  }
};

class WordCountPlugin : public mr::Job {
 public:
  WordCountPlugin(const mr::JobArgs& args, std::string* error) {
    for (const auto& [key, value] : args) {
      if (key != "min_length") {
        *error = "wc-plugin takes only min_length=N, not '" + key + "'";
        return;
      }
      auto r = std::from_chars(value.data(), value.data() + value.size(), min_length_);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size()) {
        *error = "min_length must be a number, not '" + value + "'";
      }
    }
  }
  std::unique_ptr<mr::Mapper> NewMapper(const mr::TaskContext& ctx) const override {
    return std::make_unique<Mapper>(min_length_, ctx.counters);
  }
  std::unique_ptr<mr::Reducer> NewReducer(const mr::TaskContext&) const override {
    return std::make_unique<Sum>();
  }
  std::unique_ptr<mr::Reducer> NewCombiner(const mr::TaskContext&) const override {
    return std::make_unique<Sum>();
  }

 private:
  size_t min_length_ = 1;
};

}  // namespace

MR_PLUGIN(WordCountPlugin)
