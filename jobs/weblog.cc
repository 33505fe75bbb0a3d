#include "jobs/weblog.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "common/record.h"
#include "jobs/hyperloglog.h"
#include "jobs/job_args.h"
#include "jobs/log_format.h"
#include "jobs/log_line.h"
#include "jobs/logs.h"
#include "jobs/user_agent.h"

namespace mr {
namespace {

constexpr size_t kFlushBytes = size_t{64} << 20;

// Panel codes: the first byte of an intermediate key.
struct Panel {
  char code;
  const char* name;
  bool top;  // keep only the top N entries (else all)
};
constexpr Panel kPanels[] = {
    {'R', "requests", true},     {'S', "static_requests", true}, {'N', "not_found", true},
    {'H', "hosts", true},        {'O', "os", false},             {'B', "browsers", false},
    {'T', "visit_time", false},  {'F', "referring_sites", true}, {'C', "status_codes", false},
    {'D', "visitors", false},    {'Y', "hourly", false},
};
constexpr char kTotalCode = '#';    // '#valid' (hits = lines, bytes = bandwidth), '#failed'
constexpr char kVisitorCode = 'V';  // 'V' + day + 8-byte hash; no value

const Panel* FindPanel(char code) {
  for (const Panel& p : kPanels) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

struct Entry {
  int64_t hits = 0;
  int64_t bytes = 0;
  DistinctSketch visitors;

  void Encode(std::string* out) const {
    PutVarint64(out, static_cast<uint64_t>(hits));
    PutVarint64(out, static_cast<uint64_t>(bytes));
    visitors.Encode(out);
  }
  // Merges an encoded entry; false if malformed.
  bool MergeEncoded(std::string_view in) {
    uint64_t h = 0, b = 0;
    DistinctSketch s;
    if (!GetVarint64(&in, &h) || !GetVarint64(&in, &b) || !DistinctSketch::Decode(&in, &s) || !in.empty()) {
      return false;
    }
    hits += static_cast<int64_t>(h);
    bytes += static_cast<int64_t>(b);
    visitors.Merge(s);
    return true;
  }
};

char* PutDigits(char* p, int n, int width) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return p + width;
}

class WeblogMapper : public Mapper {
 public:
  WeblogMapper(bool log_time, const LogFormat& format, Counters* counters)
      : log_time_(log_time), format_(format), counters_(counters) {}

  void Map(const InputRecord& record, Emitter& out) override {
    std::optional<LogLine> line = format_.Parse(record.line);
    if (!line) {
      if (counters_) counters_->Add(kWeblogMalformedCounter, 1);
      failed_++;
      return;
    }
    valid_++;
    bandwidth_ += line->bytes;
    const CivilTime& t = log_time_ ? line->local : line->utc;
    char day[16];
    char* p = PutDigits(day, t.year, 4);
    *p++ = '-';
    p = PutDigits(p, t.month, 2);
    *p++ = '-';
    p = PutDigits(p, t.day, 2);
    *p++ = 'T';
    p = PutDigits(p, t.hour, 2);
    std::string_view day_hour(day, p - day), day_only(day, 10), hour(day + 11, 2);

    const bool counts_visitor = line->status / 100 != 4;
    uint64_t visitor = 0;
    if (counts_visitor) {
      AppendVisitorKey(day_only, *line, &scratch_);
      visitor = MixHash(StableHash(scratch_));
      key_.assign(1, kVisitorCode);
      key_.append(day_only);
      PutFixed64BE(&key_, visitor);
      if (visitors_.insert(key_).second) memory_ += key_.size() + 48;
    }
    std::string_view referrer, agent;
    if (!LineReferrerAgent(*line, &referrer, &agent) || agent.empty()) agent = "-";

    auto add = [&](char code, std::string_view item) {
      key_.assign(1, code);
      key_.append(item);
      auto [it, inserted] = entries_.try_emplace(key_);
      if (inserted) memory_ += key_.size() + 96;
      Entry& e = it->second;
      e.hits++;
      e.bytes += line->bytes;
      if (counts_visitor) {
        bool was_exact = e.visitors.exact();
        e.visitors.Add(visitor);
        if (was_exact && !e.visitors.exact()) memory_ += DistinctSketch::kRegisters;
      }
    };
    request_.assign(line->method);
    request_.push_back(' ');
    request_.append(line->path);
    if (!line->protocol.empty()) {
      request_.push_back(' ');
      request_.append(line->protocol);
    }
    add(line->status == 404 ? 'N' : IsStaticFile(line->path) ? 'S' : 'R', request_);
    add('H', line->host);
    add('O', OsFamily(agent));
    add('B', BrowserFamily(agent));
    add('T', hour);
    std::string_view site = ReferrerSite(referrer);
    if (!site.empty()) add('F', site);
    char status[3];
    PutDigits(status, line->status, 3);
    add('C', std::string_view(status, 3));
    add('D', day_only);
    add('Y', day_hour);
    if (memory_ > kFlushBytes) Flush(out);
  }

  void Finish(Emitter& out) override { Flush(out); }

 private:
  void Flush(Emitter& out) {
    for (auto& [key, entry] : entries_) {
      value_.clear();
      entry.Encode(&value_);
      out.Emit(key, value_);
    }
    for (const std::string& key : visitors_) out.Emit(key, "");
    Entry total;
    if (valid_ > 0) {
      total.hits = valid_;
      total.bytes = bandwidth_;
      value_.clear();
      total.Encode(&value_);
      out.Emit("#valid", value_);
    }
    if (failed_ > 0) {
      total = Entry{};
      total.hits = failed_;
      value_.clear();
      total.Encode(&value_);
      out.Emit("#failed", value_);
    }
    entries_.clear();
    visitors_.clear();
    valid_ = failed_ = bandwidth_ = 0;
    memory_ = 0;
  }

  const bool log_time_;
  const LogFormat format_;
  Counters* const counters_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_set<std::string> visitors_;
  int64_t valid_ = 0, failed_ = 0, bandwidth_ = 0;
  size_t memory_ = 0;
  std::string key_, scratch_, request_, value_;
};

// Merges the partial aggregates of one key (map side, after each spill).
class WeblogCombiner : public Reducer {
 public:
  explicit WeblogCombiner(const TaskContext& ctx) : ctx_(ctx) {}
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    std::string_view v;
    if (!key.empty() && key[0] == kVisitorCode) {
      while (values.Next(&v)) {
      }
      out.Emit(key, "");
      return;
    }
    Entry e;
    while (values.Next(&v)) {
      if (!e.MergeEncoded(v)) return ctx_.Fail("weblog: a corrupt intermediate value");
    }
    value_.clear();
    e.Encode(&value_);
    out.Emit(key, value_);
  }

 private:
  TaskContext ctx_;
  std::string value_;
};

struct Row {
  std::string item;
  int64_t hits, visitors, bytes;
};

bool HitsFirst(const Row& a, const Row& b) { return a.hits != b.hits ? a.hits > b.hits : a.item < b.item; }

class WeblogReducer : public Reducer {
 public:
  WeblogReducer(const TaskContext& ctx, size_t top) : ctx_(ctx), top_(top) {}

  void Reduce(std::string_view key, ValueIterator& values, Emitter&) override {
    if (key.empty()) return;
    if (partition_ < 0) partition_ = PartitionOf(key, ctx_.reducers);
    std::string_view v;
    const char code = key[0];
    if (code == kVisitorCode) {
      while (values.Next(&v)) {
      }
      day_visitors_[std::string(key.substr(1, 10))]++;
      return;
    }
    Entry e;
    while (values.Next(&v)) {
      if (!e.MergeEncoded(v)) return ctx_.Fail("weblog: a corrupt intermediate value");
    }
    if (code == kTotalCode) {
      if (key == "#valid") {
        valid_ += e.hits;
        bandwidth_ += e.bytes;
      } else {
        failed_ += e.hits;
      }
      return;
    }
    const Panel* panel = FindPanel(code);
    if (panel == nullptr) return ctx_.Fail(fmt::format("weblog: an unknown panel code {}", static_cast<int>(code)));
    counts_[panel->name]++;
    std::vector<Row>& rows = rows_[panel->name];
    rows.push_back(Row{std::string(key.substr(1)), e.hits, static_cast<int64_t>(e.visitors.Estimate()), e.bytes});
    if (panel->top) {
      std::push_heap(rows.begin(), rows.end(), HitsFirst);  // the worst row on top
      if (rows.size() > top_) {
        std::pop_heap(rows.begin(), rows.end(), HitsFirst);
        rows.pop_back();
      }
    }
  }

  void Finish(Emitter& out) override {
    if (partition_ < 0) return;
    const std::string p = fmt::format("{:05d}", partition_);
    std::vector<std::pair<std::string, std::string>> lines;
    int64_t visitors = 0;
    for (auto& [day, n] : day_visitors_) {
      visitors += n;
      lines.emplace_back(fmt::format("day_visitors:{}:{}", p, day), std::to_string(n));
    }
    for (auto [name, n] : {std::pair<const char*, int64_t>{"valid_requests", valid_}, {"failed_requests", failed_},
                           {"bandwidth", bandwidth_}, {"unique_visitors", visitors}}) {
      lines.emplace_back(fmt::format("general:{}:{}", p, name), std::to_string(n));
    }
    for (auto& [panel, n] : counts_) lines.emplace_back(fmt::format("count:{}:{}", p, panel), std::to_string(n));
    for (auto& [panel, rows] : rows_) {
      for (const Row& r : rows) {
        lines.emplace_back(fmt::format("{}:{}:{}", panel, p, r.item),
                           fmt::format("{}\t{}\t{}", r.hits, r.visitors, r.bytes));
      }
    }
    std::sort(lines.begin(), lines.end());
    for (auto& [k, v] : lines) out.Emit(k, v);
  }

 private:
  TaskContext ctx_;
  const size_t top_;
  int64_t partition_ = -1;
  int64_t valid_ = 0, failed_ = 0, bandwidth_ = 0;
  std::map<std::string, int64_t> day_visitors_;
  std::map<std::string, int64_t> counts_;
  std::map<std::string, std::vector<Row>> rows_;
};

class Weblog : public Job {
 public:
  Weblog(bool log_time, size_t top, LogFormat format) : log_time_(log_time), top_(top), format_(std::move(format)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<WeblogMapper>(log_time_, format_, ctx.counters);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext& ctx) const override {
    return std::make_unique<WeblogReducer>(ctx, top_);
  }
  std::unique_ptr<Reducer> NewCombiner(const TaskContext& ctx) const override {
    return std::make_unique<WeblogCombiner>(ctx);
  }

 private:
  const bool log_time_;
  const size_t top_;
  const LogFormat format_;
};

}  // namespace

Result<std::unique_ptr<Job>> MakeWeblog(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("weblog", args, {"time", "top", "format"}));
  auto time = GetChoiceArg(args, "time", {"log", "utc"}, 0);
  if (!time.ok()) return time.status();
  auto top = GetIntArg(args, "top", 100, 1, 100000);
  if (!top.ok()) return top.status();
  LogFormat format;
  if (auto it = args.find("format"); it != args.end()) {
    auto made = LogFormat::Make(it->second);
    if (!made.ok()) return made.status();
    format = std::move(*made);
  }
  return std::unique_ptr<Job>(new Weblog(*time == 0, static_cast<size_t>(*top), std::move(format)));
}

}  // namespace mr
