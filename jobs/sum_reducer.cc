#include "jobs/sum_reducer.h"

#include <charconv>
#include <fmt/format.h>

namespace mr {
namespace {

class SumReducer : public Reducer {
 public:
  explicit SumReducer(const TaskContext& ctx) : ctx_(ctx) {}
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec == std::errc::result_out_of_range || __builtin_add_overflow(sum, n, &sum)) {
        ctx_.Fail(SumOverflowError(key));
        return;
      }
    }
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), sum);
    out.Emit(key, std::string_view(buf, r.ptr - buf));
  }

 private:
  const TaskContext ctx_;
};

}  // namespace

std::unique_ptr<Reducer> NewSumReducer(const TaskContext& ctx) { return std::make_unique<SumReducer>(ctx); }

std::string SumOverflowError(std::string_view key) {
  return fmt::format("the sum for key '{}' does not fit in a signed 64-bit integer (beyond ±9223372036854775807)",
                     key.substr(0, 100));
}

}  // namespace mr
