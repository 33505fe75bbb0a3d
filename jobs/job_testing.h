// Test helpers for the built-in jobs (unit tests only): in-memory emitters, value iterators and
// counters, and RunInProcess, which drives a Job through the API the way the engine does -- one
// mapper per input piece, an optional combiner over each mapper's sorted output, then one reducer
// over all keys in bytewise order -- without processes, files or the shuffle.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "jobs/job.h"

namespace mr::testing {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class VectorEmitter : public Emitter {
 public:
  void Emit(std::string_view key, std::string_view value) override { out.emplace_back(key, value); }
  KeyValues out;
};

class VectorValues : public ValueIterator {
 public:
  explicit VectorValues(std::vector<std::string> values) : values_(std::move(values)) {}
  bool Next(std::string_view* value) override {
    if (i_ >= values_.size()) return false;
    *value = values_[i_++];
    return true;
  }

 private:
  std::vector<std::string> values_;
  size_t i_ = 0;
};

class MapCounters : public Counters {
 public:
  void Add(std::string_view name, int64_t delta) override { values[std::string(name)] += delta; }
  int64_t Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? 0 : it->second;
  }
  std::map<std::string, int64_t> values;
};

// One mapper's input: a file name and its text, cut into lines as the engine cuts them.
struct Piece {
  std::string file;
  std::string text;
};

// Groups (key, value) pairs by key in bytewise key order; values keep their order.
inline std::map<std::string, std::vector<std::string>> Group(const KeyValues& kvs) {
  std::map<std::string, std::vector<std::string>> groups;
  for (auto& [k, v] : kvs) groups[k].push_back(v);
  return groups;
}

// Runs `job` over `pieces` (one mapper each) and returns the reducer's output lines, "key\tvalue\n",
// in emission order. Uses the combiner when the job has one (also when it declares SumCombiner).
// `error` receives what the job reported through TaskContext::Fail (the first failure).
inline std::string RunInProcess(const Job& job, const std::vector<Piece>& pieces, MapCounters* counters,
                                const JobArgs& args = {}, std::string* error = nullptr) {
  TaskContext ctx{&args, 1, counters, error};
  KeyValues shuffled;
  for (const Piece& piece : pieces) {
    std::unique_ptr<Mapper> mapper = job.NewMapper(ctx);
    VectorEmitter mapped;
    size_t pos = 0;
    while (pos < piece.text.size()) {
      size_t nl = piece.text.find('\n', pos);
      size_t stop = nl == std::string::npos ? piece.text.size() : nl;
      std::string_view line(piece.text.data() + pos, stop - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      mapper->Map(InputRecord{piece.file, pos, line}, mapped);
      pos = stop + 1;
    }
    mapper->Finish(mapped);
    std::unique_ptr<Reducer> combiner = job.NewCombiner(ctx);
    if (!combiner) {
      shuffled.insert(shuffled.end(), mapped.out.begin(), mapped.out.end());
      continue;
    }
    for (auto& [key, values] : Group(mapped.out)) {
      VectorValues it(values);
      VectorEmitter combined;
      combiner->Reduce(key, it, combined);
      for (auto& kv : combined.out) {
        if (kv.first != key) ADD_FAILURE() << "combiner changed key " << key << " to " << kv.first;
        shuffled.push_back(kv);
      }
    }
  }
  std::unique_ptr<Reducer> reducer = job.NewReducer(ctx);
  VectorEmitter reduced;
  for (auto& [key, values] : Group(shuffled)) {
    VectorValues it(values);
    reducer->Reduce(key, it, reduced);
  }
  reducer->Finish(reduced);
  std::string out;
  for (auto& [k, v] : reduced.out) out += k + "\t" + v + "\n";
  return out;
}

}  // namespace mr::testing
