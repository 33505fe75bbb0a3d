// Compact per-task state for the Scheduler (docs/scale.md "State"): a job of 200,000 tasks keeps
// each one in a few hundred bytes, so nothing that repeats from task to task is stored per task.
//  - NamePool: worker ids, shuffle addresses and counter names, each stored once and named by a
//    number (0 is the empty string). It only grows, by the distinct names seen: workers ever
//    registered and counter names, not tasks.
//  - CounterList: a task's counters as (name, value) pairs of pooled names.
//  - SplitTable: a job's map inputs as a file table and (file, offset, length) rows; the proto
//    InputSplit is built when an assignment or a view needs it.
// Thread-safety: none; each belongs to one Scheduler (its io thread).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mr.pb.h"

namespace mr {

class NamePool {
 public:
  NamePool() : names_{""} {}
  // The number of `name`, pooling it if new.
  uint32_t Intern(const std::string& name);
  const std::string& operator[](uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

using CounterList = std::vector<std::pair<uint32_t, int64_t>>;  // (pooled name, value)

class SplitTable {
 public:
  SplitTable() = default;
  // Takes the plan's splits (the plan is left empty).
  explicit SplitTable(proto::JobPlan* plan);
  size_t size() const { return rows_.size(); }
  proto::InputSplit Get(size_t i) const;
  // Approximate heap bytes, for tests of the compaction.
  size_t Bytes() const;

 private:
  struct Row {
    uint32_t file = 0;          // index into files_ (0: no path)
    uint32_t parts_begin = 0;   // a combined split's parts: parts_[parts_begin, +parts_count)
    uint32_t parts_count = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  struct File {
    std::string path;
    uint64_t size = 0;
  };
  Row MakeRow(const proto::InputSplit& s, std::unordered_map<std::string, uint32_t>* index);
  void Fill(const Row& r, proto::InputSplit* out) const;

  std::vector<File> files_{File{}};  // distinct (path, size) pairs; 0 is "none"
  std::vector<Row> rows_;
  std::vector<Row> parts_;
};

}  // namespace mr
