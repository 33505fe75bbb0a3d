#include "jobs/logs.h"

#include <fmt/format.h>

#include <charconv>

#include "common/hash.h"
#include "jobs/job_args.h"
#include "jobs/log_format.h"
#include "jobs/log_line.h"
#include "jobs/sum_reducer.h"
#include "jobs/user_agent.h"

namespace mr {
namespace {

enum class By { kStatus, kPath, kHost, kMethod, kHour, kDay, kVisitors, kReferrer, kAgent, kBrowser, kOs, kFile };
enum class Metric { kRequests, kBytes };

constexpr size_t kDayLen = 10;  // "YYYY-MM-DD"

struct Options {
  By by = By::kStatus;
  Metric metric = Metric::kRequests;
  bool log_time = false;
  int status = -1;        // exact status, or -1
  int status_class = -1;  // first digit of "Nxx", or -1
  std::string method;     // "" = any
  std::string path_prefix;
  LogFormat format;
};

// Writes n as exactly `width` decimal digits. REQUIRES: 0 <= n < 10^width.
char* PutDigits(char* p, int n, int width) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return p + width;
}

}  // namespace

void AppendVisitorKey(std::string_view day, std::string_view host, std::string_view agent, std::string* out) {
  if (agent.empty()) agent = "-";
  out->assign(day);
  out->append(host);
  out->push_back('\0');  // the host has no NUL: the pair is unambiguous
  for (char c : agent) {
    if (c != ' ') out->push_back(c);
  }
}

namespace {

bool Selected(const Options& o, const LogLine& line) {
  if (o.status >= 0 && line.status != o.status) return false;
  if (o.status_class >= 0 && line.status / 100 != o.status_class) return false;
  if (!o.method.empty() && line.method != o.method) return false;
  if (!o.path_prefix.empty() && !line.path.starts_with(o.path_prefix)) return false;
  return true;
}

class LogsMapper : public Mapper {
 public:
  LogsMapper(const Options& o, Counters* counters) : o_(o), counters_(counters) {}

  void Map(const InputRecord& record, Emitter& out) override {
    std::optional<LogLine> line = o_.format.Parse(record.line);
    if (!line) {
      if (counters_) counters_->Add(kLogsMalformedCounter, 1);
      return;
    }
    if (!Selected(o_, *line)) return;
    char key_buf[16];
    std::string_view key;
    std::string_view referrer, agent;
    switch (o_.by) {
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
      case By::kDay:
      case By::kVisitors: {
        const CivilTime& t = o_.log_time ? line->local : line->utc;
        char* p = PutDigits(key_buf, t.year, 4);
        *p++ = '-';
        p = PutDigits(p, t.month, 2);
        *p++ = '-';
        p = PutDigits(p, t.day, 2);
        if (o_.by == By::kHour) {
          *p++ = 'T';
          p = PutDigits(p, t.hour, 2);
        }
        key = std::string_view(key_buf, p - key_buf);
        break;
      }
      case By::kReferrer:
        if (!LineReferrerAgent(*line, &referrer, &agent)) return;
        key = ReferrerSite(referrer);
        if (key.empty()) return;
        break;
      case By::kAgent:
      case By::kBrowser:
      case By::kOs:
        if (!LineReferrerAgent(*line, &referrer, &agent)) return;
        key = o_.by == By::kAgent ? agent : o_.by == By::kBrowser ? BrowserFamily(agent) : OsFamily(agent);
        break;
      case By::kFile:
        if (!IsStaticFile(line->path)) return;
        key = line->path;
        break;
    }
    if (o_.by == By::kVisitors) {
      if (line->status / 100 == 4) return;  // GoAccess leaves client errors out of visitors
      if (!LineReferrerAgent(*line, &referrer, &agent)) agent = {};
      AppendVisitorKey(key, line->host, agent, &visitor_);
      out.Emit(visitor_, "1");
    } else if (o_.metric == Metric::kRequests) {
      out.Emit(key, "1");
    } else {
      char value[24];
      auto r = std::to_chars(value, value + sizeof(value), line->bytes);
      out.Emit(key, std::string_view(value, r.ptr - value));
    }
  }

 private:
  const Options o_;
  Counters* const counters_;
  std::string visitor_;
};

// by=visitors: keys are day + visitor, all of one day in one partition, arriving in order; the
// number of distinct keys of each day is its visitor count.
class VisitorCountReducer : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator&, Emitter& out) override {
    std::string_view day = key.substr(0, kDayLen);
    if (day != day_) {
      Flush(out);
      day_.assign(day);
    }
    count_++;
  }
  void Finish(Emitter& out) override { Flush(out); }

 private:
  void Flush(Emitter& out) {
    if (count_ == 0) return;
    char value[24];
    auto r = std::to_chars(value, value + sizeof(value), count_);
    out.Emit(day_, std::string_view(value, r.ptr - value));
    count_ = 0;
  }
  std::string day_;
  int64_t count_ = 0;
};

class DayPartitioner : public Partitioner {
 public:
  uint32_t Partition(std::string_view key, uint32_t reducers) const override {
    return PartitionOf(key.substr(0, kDayLen), reducers);
  }
};

class Logs : public Job {
 public:
  explicit Logs(Options o) : o_(std::move(o)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<LogsMapper>(o_, ctx.counters);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const override {
    if (o_.by == By::kVisitors) return std::make_unique<VisitorCountReducer>();
    return NewSumReducer(ctx);
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const override { return NewSumReducer(ctx); }
  bool SumCombiner() const override { return true; }
  std::unique_ptr<Partitioner> NewPartitioner() const override {
    if (o_.by == By::kVisitors) return std::make_unique<DayPartitioner>();
    return nullptr;
  }

 private:
  const Options o_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeLogs(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("logs", args, {"by", "metric", "time", "status", "method", "path-prefix", "format"}));
  Options o;
  auto by = GetChoiceArg(args, "by",
                         {"status", "path", "host", "method", "hour", "day", "visitors", "referrer", "agent",
                          "browser", "os", "file"},
                         0);
  if (!by.ok()) return by.status();
  o.by = static_cast<By>(*by);
  auto metric = GetChoiceArg(args, "metric", {"requests", "bytes"}, 0);
  if (!metric.ok()) return metric.status();
  o.metric = static_cast<Metric>(*metric);
  if (o.by == By::kVisitors && o.metric == Metric::kBytes) {
    return Status::InvalidArgument("--arg by=visitors counts visitors: it takes no metric=bytes");
  }
  auto time = GetChoiceArg(args, "time", {"utc", "log"}, 0);
  if (!time.ok()) return time.status();
  o.log_time = *time == 1;
  if (auto it = args.find("status"); it != args.end()) {
    const std::string& s = it->second;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (s.size() == 3 && digit(s[0]) && digit(s[1]) && digit(s[2])) {
      o.status = std::stoi(s);
    } else if (s.size() == 3 && digit(s[0]) && s[1] == 'x' && s[2] == 'x') {
      o.status_class = s[0] - '0';
    } else {
      return Status::InvalidArgument(fmt::format("--arg status={}: want three digits (404) or a class (4xx)", s));
    }
  }
  if (auto it = args.find("method"); it != args.end()) {
    if (it->second.empty()) return Status::InvalidArgument("--arg method=: want a method such as GET");
    o.method = it->second;
  }
  if (auto it = args.find("path-prefix"); it != args.end()) {
    if (it->second.empty()) return Status::InvalidArgument("--arg path-prefix=: want a prefix such as /api/");
    o.path_prefix = it->second;
  }
  if (auto it = args.find("format"); it != args.end()) {
    auto format = LogFormat::Make(it->second);
    if (!format.ok()) return format.status();
    o.format = std::move(*format);
  }
  return std::unique_ptr<Job>(new Logs(std::move(o)));
}

}  // namespace mr
