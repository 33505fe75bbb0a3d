// CounterSet: the engine's implementation of the job API's Counters (the built-in counters' names
// are in common/defaults.h). Not thread-safe: one per thread, merged at the end of a task.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/defaults.h"
#include "jobs/job.h"

namespace mr {

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
  int64_t Get(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, int64_t, std::less<>> values_;
};

}  // namespace mr
