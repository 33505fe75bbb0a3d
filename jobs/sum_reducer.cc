#include "jobs/sum_reducer.h"

#include <charconv>

namespace mr {
namespace {

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

}  // namespace

std::unique_ptr<Reducer> NewSumReducer() { return std::make_unique<SumReducer>(); }

}  // namespace mr
