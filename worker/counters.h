// CounterSet: the engine's implementation of the job API's Counters, plus the names of the
// built-in counters (DESIGN §7). Not thread-safe: one per thread, merged at the end of a task.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "jobs/job.h"

namespace mr {

namespace counter {
inline constexpr const char* kMapInputRecords = "map.input.records";
inline constexpr const char* kMapInputBytes = "map.input.bytes";
inline constexpr const char* kMapOutputRecords = "map.output.records";
inline constexpr const char* kCombineOutputRecords = "combine.output.records";
inline constexpr const char* kSpillBytes = "spill.bytes";
inline constexpr const char* kSpills = "spill.count";
inline constexpr const char* kShuffleBytes = "shuffle.bytes";
inline constexpr const char* kReduceInputGroups = "reduce.input.groups";
inline constexpr const char* kReduceInputRecords = "reduce.input.records";
inline constexpr const char* kReduceOutputRecords = "reduce.output.records";
inline constexpr const char* kReduceOutputBytes = "reduce.output.bytes";
}  // namespace counter

class CounterSet : public Counters {
 public:
  void Add(std::string_view name, int64_t delta) override {
    auto it = values_.find(name);
    if (it == values_.end()) values_.emplace(std::string(name), delta);
    else it->second += delta;
  }
  void Merge(const CounterSet& other) {
    for (auto& [k, v] : other.values_) Add(k, v);
  }
  const std::map<std::string, int64_t, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, int64_t, std::less<>> values_;
};

}  // namespace mr
