#include "jobs/logs.h"

#include <charconv>

#include "jobs/job_args.h"
#include "jobs/log_line.h"
#include "jobs/sum_reducer.h"

namespace mr {
namespace {

enum class By { kStatus, kPath, kHost, kMethod, kHour, kDay };
enum class Metric { kRequests, kBytes };

// Writes n as exactly `width` decimal digits. REQUIRES: 0 <= n < 10^width.
char* PutDigits(char* p, int n, int width) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return p + width;
}

class LogsMapper : public Mapper {
 public:
  LogsMapper(By by, Metric metric, Counters* counters) : by_(by), metric_(metric), counters_(counters) {}

  void Map(const InputRecord& record, Emitter& out) override {
    std::optional<LogLine> line = ParseLogLine(record.line);
    if (!line) {
      if (counters_) counters_->Add(kLogsMalformedCounter, 1);
      return;
    }
    char key_buf[16];
    std::string_view key;
    switch (by_) {
      case By::kStatus:
        key = std::string_view(key_buf, PutDigits(key_buf, line->status, 3) - key_buf);
        break;
      case By::kPath:
        key = line->path;
        break;
      case By::kHost:
        key = line->host;
        break;
      case By::kMethod:
        key = line->method;
        break;
      case By::kHour:
      case By::kDay: {
        const CivilTime& t = line->utc;
        char* p = PutDigits(key_buf, t.year, 4);
        *p++ = '-';
        p = PutDigits(p, t.month, 2);
        *p++ = '-';
        p = PutDigits(p, t.day, 2);
        if (by_ == By::kHour) {
          *p++ = 'T';
          p = PutDigits(p, t.hour, 2);
        }
        key = std::string_view(key_buf, p - key_buf);
        break;
      }
    }
    if (metric_ == Metric::kRequests) {
      out.Emit(key, "1");
    } else {
      char value[24];
      auto r = std::to_chars(value, value + sizeof(value), line->bytes);
      out.Emit(key, std::string_view(value, r.ptr - value));
    }
  }

 private:
  const By by_;
  const Metric metric_;
  Counters* const counters_;
};

class Logs : public Job {
 public:
  Logs(By by, Metric metric) : by_(by), metric_(metric) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<LogsMapper>(by_, metric_, ctx.counters);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override { return NewSumReducer(); }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext&) const override { return NewSumReducer(); }
  bool SumCombiner() const override { return true; }

 private:
  const By by_;
  const Metric metric_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeLogs(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("logs", args, {"by", "metric"}));
  auto by = GetChoiceArg(args, "by", {"status", "path", "host", "method", "hour", "day"}, 0);
  if (!by.ok()) return by.status();
  auto metric = GetChoiceArg(args, "metric", {"requests", "bytes"}, 0);
  if (!metric.ok()) return metric.status();
  return std::unique_ptr<Job>(new Logs(static_cast<By>(*by), static_cast<Metric>(*metric)));
}

}  // namespace mr
