// A test plugin that counts words like wordcount, except on a poisoned record: a line containing
// POISON (or, with phase=reduce, the key POISON in the reducer). There it does what `mode` says:
//   segv     dereferences a null pointer         abort   calls abort()
//   throw    throws a std::runtime_error         hog     allocates until allocation fails (untouched
//   malloc   mallocs until it returns null, then writes through it   memory: no page is used)
//   sleep    sleeps forever                      none    nothing (a plain word count)
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mr/job_api.h"

namespace {

void Poison(const std::string& mode) {
  if (mode == "segv") {
    volatile int* p = nullptr;
    *p = 1;
  } else if (mode == "abort") {
    std::abort();
  } else if (mode == "throw") {
    throw std::runtime_error("poisoned record");
  } else if (mode == "hog") {
    std::vector<std::unique_ptr<char[]>> hog;
    while (true) hog.emplace_back(new char[64u << 20]);
  } else if (mode == "malloc") {
    while (true) {
      volatile char* p = static_cast<char*>(std::malloc(64u << 20));
      if (p == nullptr) {
        *p = 1;
      }
    }
  } else if (mode == "sleep") {
    while (true) ::pause();
  }
}

class Mapper : public mr::Mapper {
 public:
  Mapper(std::string mode, bool in_map) : mode_(std::move(mode)), in_map_(in_map) {}
  void Map(const mr::InputRecord& record, mr::Emitter& out) override {
    std::string_view line = record.line;
    if (in_map_ && line.find("POISON") != std::string_view::npos) Poison(mode_);
    size_t start = 0;
    while (start < line.size()) {
      size_t end = line.find(' ', start);
      if (end == std::string_view::npos) end = line.size();
      if (end > start) out.Emit(line.substr(start, end - start), "1");
      start = end + 1;
    }
  }

 private:
  std::string mode_;
  bool in_map_;
};

class Sum : public mr::Reducer {
 public:
  Sum(std::string mode, bool in_reduce) : mode_(std::move(mode)), in_reduce_(in_reduce) {}
  void Reduce(std::string_view key, mr::ValueIterator& values, mr::Emitter& out) override {
    if (in_reduce_ && key == "POISON") Poison(mode_);
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) sum++;
    out.Emit(key, std::to_string(sum));
  }

 private:
  std::string mode_;
  bool in_reduce_;
};

class PoisonJob : public mr::Job {
 public:
  PoisonJob(const mr::JobArgs& args, std::string* error) {
    for (const auto& [key, value] : args) {
      if (key == "mode") mode_ = value;
      else if (key == "phase") reduce_ = value == "reduce";
      else *error = "unknown argument " + key + " (poison takes mode=, phase=map|reduce)";
    }
  }
  std::unique_ptr<mr::Mapper> NewMapper(const mr::TaskContext&) const override {
    return std::make_unique<Mapper>(mode_, !reduce_);
  }
  std::unique_ptr<mr::Reducer> NewReducer(const mr::TaskContext&) const override {
    return std::make_unique<Sum>(mode_, reduce_);
  }

 private:
  std::string mode_ = "none";
  bool reduce_ = false;
};

}  // namespace

MR_PLUGIN(PoisonJob)
