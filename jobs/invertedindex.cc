#include "jobs/invertedindex.h"

#include <algorithm>
#include <unordered_set>

#include "common/words.h"

namespace mr {
namespace invertedindex {

std::vector<std::string> MergePathLists(ValueIterator& values) {
  std::vector<std::string> paths;
  std::string_view v;
  while (values.Next(&v)) {
    size_t start = 0;
    while (true) {
      size_t end = v.find('\0', start);
      std::string_view path = v.substr(start, end == std::string_view::npos ? v.npos : end - start);
      if (!path.empty()) paths.emplace_back(path);
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

std::string JoinPaths(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size(); i++) {
    if (i > 0) out.push_back('\0');
    out += paths[i];
  }
  return out;
}

std::string FormatPostings(const std::vector<std::string>& paths) {
  std::vector<std::string_view> names;
  names.reserve(paths.size());
  for (const std::string& p : paths) {
    size_t slash = p.rfind('/');
    names.push_back(slash == std::string::npos ? std::string_view(p) : std::string_view(p).substr(slash + 1));
  }
  std::sort(names.begin(), names.end());
  std::string out = std::to_string(paths.size());
  out.push_back(' ');
  for (size_t i = 0; i < names.size(); i++) {
    if (i > 0) out.push_back(',');
    AppendEscapedName(names[i], &out);
  }
  return out;
}

}  // namespace invertedindex

namespace {

// Transparent hashing, so a word can be looked up by view without building a string.
struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

class InvertedIndexMapper : public Mapper {
 public:
  explicit InvertedIndexMapper(bool lowercase) : lowercase_(lowercase) {}

  void Map(const InputRecord& record, Emitter& out) override {
    if (record.file != file_) {
      file_.assign(record.file);
      Forget();
    }
    ForEachWord(record.line, [&](std::string_view w) {
      if (lowercase_) {
        folded_.clear();
        AppendLowercase(w, &folded_);
        w = folded_;
      }
      if (seen_.find(w) != seen_.end()) return;
      if (seen_bytes_ > kMaxSeenBytes) Forget();  // the combiner and reducer dedup what follows
      seen_.emplace(w);
      seen_bytes_ += w.size() + 48;  // roughly, with the node and bucket
      out.Emit(w, file_);
    });
  }

 private:
  static constexpr size_t kMaxSeenBytes = 32 << 20;

  void Forget() {
    seen_.clear();
    seen_bytes_ = 0;
  }

  const bool lowercase_;
  std::string file_;
  std::string folded_;
  std::unordered_set<std::string, ViewHash, std::equal_to<>> seen_;  // words emitted for file_
  size_t seen_bytes_ = 0;
};

class InvertedIndexCombiner : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    out.Emit(key, invertedindex::JoinPaths(invertedindex::MergePathLists(values)));
  }
};

class InvertedIndexReducer : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    out.Emit(key, invertedindex::FormatPostings(invertedindex::MergePathLists(values)));
  }
};

class InvertedIndex : public Job {
 public:
  explicit InvertedIndex(bool lowercase) : lowercase_(lowercase) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext&) const override {
    return std::make_unique<InvertedIndexMapper>(lowercase_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override {
    return std::make_unique<InvertedIndexReducer>();
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext&) const override {
    return std::make_unique<InvertedIndexCombiner>();
  }

 private:
  const bool lowercase_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeInvertedIndex(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("invertedindex", args, {"lowercase"}));
  auto lowercase = GetBoolArg(args, "lowercase", false);
  if (!lowercase.ok()) return lowercase.status();
  return std::unique_ptr<Job>(new InvertedIndex(*lowercase));
}

}  // namespace mr
