#include "jobs/wordcount.h"

#include "common/words.h"
#include "jobs/sum_reducer.h"

namespace mr {
namespace {

class WordCountMapper : public Mapper {
 public:
  explicit WordCountMapper(bool lowercase) : lowercase_(lowercase) {}
  // '\n' separates words like any non-letter, so a block of lines is tokenized as one text.
  bool MapBlock(const InputBlock& block, Emitter& out) override {
    Tokenize(block.text, out);
    return true;
  }
  void Map(const InputRecord& record, Emitter& out) override { Tokenize(record.line, out); }

 private:
  void Tokenize(std::string_view text, Emitter& out) {
    if (!lowercase_) {
      ForEachWord(text, [&](std::string_view w) { out.Emit(w, "1"); });
      return;
    }
    ForEachWord(text, [&](std::string_view w) {
      folded_.clear();
      AppendLowercase(w, &folded_);
      out.Emit(folded_, "1");
    });
  }

  const bool lowercase_;
  std::string folded_;
};

class WordCount : public Job {
 public:
  explicit WordCount(bool lowercase) : lowercase_(lowercase) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext&) const override {
    return std::make_unique<WordCountMapper>(lowercase_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const override {
    return NewSumReducer(ctx);
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const override {
    return NewSumReducer(ctx);
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
