#include "jobs/wordcount.h"

#include <charconv>

#include "common/words.h"

namespace mr {
namespace {

class WordCountMapper : public Mapper {
 public:
  explicit WordCountMapper(bool lowercase) : lowercase_(lowercase) {}
  void Map(const InputRecord& record, Emitter& out) override {
    if (!lowercase_) {
      ForEachWord(record.line, [&](std::string_view w) { out.Emit(w, "1"); });
      return;
    }
    ForEachWord(record.line, [&](std::string_view w) {
      folded_.clear();
      AppendLowercase(w, &folded_);
      out.Emit(folded_, "1");
    });
  }

 private:
  const bool lowercase_;
  std::string folded_;
};

// Sums decimal integer values; also the reducer of any job whose values are counts.
class SumReducer : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      sum += n;
    }
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), sum);
    out.Emit(key, std::string_view(buf, r.ptr - buf));
  }
};

class WordCount : public Job {
 public:
  explicit WordCount(bool lowercase) : lowercase_(lowercase) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext&) const override {
    return std::make_unique<WordCountMapper>(lowercase_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override {
    return std::make_unique<SumReducer>();
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext&) const override {
    return std::make_unique<SumReducer>();
  }
  bool SumCombiner() const override { return true; }

 private:
  const bool lowercase_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeWordCount(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("wordcount", args, {"lowercase"}));
  auto lowercase = GetBoolArg(args, "lowercase", false);
  if (!lowercase.ok()) return lowercase.status();
  return std::unique_ptr<Job>(new WordCount(*lowercase));
}

}  // namespace mr
