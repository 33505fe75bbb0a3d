#include "jobs/weblog.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "common/record.h"
#include "jobs/hyperloglog.h"
#include "jobs/job_args.h"
#include "jobs/log_format.h"
#include "jobs/log_line.h"
#include "jobs/logs.h"
#include "jobs/sum_reducer.h"
#include "jobs/user_agent.h"
#include "jobs/weblog_output.h"

namespace mr {
namespace {

constexpr size_t kFlushBytes = size_t{64} << 20;

// Intermediate keys start with a panel's code (kWeblogPanels) or one of these.
constexpr char kTotalCode = '#';    // '#valid' (hits = lines, bytes = bandwidth), '#failed'
constexpr char kVisitorCode = 'V';  // 'V' + day + 8-byte hash; no value

const WeblogPanel* FindPanel(char code) {
  for (const WeblogPanel& p : kWeblogPanels) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

// Adds n to *sum; false when the sum leaves the signed 64-bit range (sums never wrap unnoticed).
bool AddChecked(int64_t* sum, int64_t n) { return !__builtin_add_overflow(*sum, n, sum); }

struct Entry {
  int64_t hits = 0;
  int64_t bytes = 0;
  bool overflow = false;  // a sum left the signed 64-bit range
  DistinctSketch visitors;
  uint64_t last_visitor = 0;  // map side: the visitor added last (a repeat is skipped cheaply)

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
    if (h > INT64_MAX || b > INT64_MAX || !AddChecked(&hits, static_cast<int64_t>(h)) ||
        !AddChecked(&bytes, static_cast<int64_t>(b))) {
      overflow = true;
    }
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

// Hashing std::string keys by string_view, so lookups need no std::string.
struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A fast hash of a short string: 8 bytes at a time through a multiply-xorshift mix.
inline uint64_t FastHash(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x9fb21c651e98df25ull;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0x9fb21c651e98df25ull;
  return h ^ (h >> 32);
}

// The entries of one panel by item: an open-addressing index (hash, position) over a vector of
// (item, entry), so a lookup is one probe and one compare of equal hashes. Remembers the last
// entry used (consecutive lines often share their day and hour).
class ItemTable {
 public:
  ItemTable() : slots_(1 << 8) {}
  Entry& Get(std::string_view item, size_t* memory) {
    if (last_ != kNone && items_[last_].first == item) return items_[last_].second;
    const uint64_t h = FastHash(item) | 1;
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.hash == 0) {
        if ((items_.size() + 1) * 2 > slots_.size()) {
          Grow();
          return Insert(item, h, memory);
        }
        slot = Slot{h, static_cast<uint32_t>(items_.size())};
        items_.emplace_back(std::string(item), Entry{});
        *memory += item.size() + 160;
        last_ = slot.index;
        return items_.back().second;
      }
      if (slot.hash == h && items_[slot.index].first == item) {
        last_ = slot.index;
        return items_[slot.index].second;
      }
    }
  }
  void Emit(char code, Emitter& out, std::string* key, std::string* value) const {
    for (auto& [item, entry] : items_) {
      key->assign(1, code);
      key->append(item);
      value->clear();
      entry.Encode(value);
      out.Emit(*key, *value);
    }
  }
  void Clear() {
    items_.clear();
    slots_.assign(1 << 8, Slot{});
    last_ = kNone;
  }

 private:
  static constexpr uint32_t kNone = ~0u;
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    uint32_t index = 0;
  };
  Entry& Insert(std::string_view item, uint64_t h, size_t* memory) {
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = Slot{h, static_cast<uint32_t>(items_.size())};
    items_.emplace_back(std::string(item), Entry{});
    *memory += item.size() + 160;
    last_ = slots_[i].index;
    return items_.back().second;
  }
  void Grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    size_t mask = bigger.size() - 1;
    for (const Slot& s : slots_) {
      if (s.hash == 0) continue;
      size_t i = s.hash & mask;
      while (bigger[i].hash != 0) i = (i + 1) & mask;
      bigger[i] = s;
    }
    slots_.swap(bigger);
  }
  std::vector<Slot> slots_;
  std::vector<std::pair<std::string, Entry>> items_;
  uint32_t last_ = kNone;
};

// Entries keyed by one of a few static strings (the family names of jobs/user_agent.h).
class FamilyTable {
 public:
  Entry& Get(std::string_view name) {
    for (auto& [n, e] : entries_) {
      if (n.data() == name.data()) return e;
    }
    return entries_.emplace_back(name, Entry{}).second;
  }
  void Emit(char code, Emitter& out, std::string* key, std::string* value) const {
    for (auto& [name, entry] : entries_) {
      key->assign(1, code);
      key->append(name);
      value->clear();
      entry.Encode(value);
      out.Emit(*key, *value);
    }
  }
  void Clear() { entries_.clear(); }

 private:
  std::vector<std::pair<std::string_view, Entry>> entries_;
};

// A visitor seen by this mapper: its day (YYYYMMDD) and the hash of its identity.
struct Visitor {
  uint64_t hash;
  int32_t day;
  bool operator==(const Visitor&) const = default;
};
struct VisitorHash {
  size_t operator()(const Visitor& v) const { return v.hash ^ (static_cast<uint64_t>(v.day) * 0x9e3779b97f4a7c15ull); }
};

// The hash of a visitor's identity (day as YYYYMMDD, HOST, agent without spaces): the bytes go 8 at
// a time through a multiply-xorshift mix (not FNV: a byte at a time is too slow here).
uint64_t VisitorHashOf(int32_t day, std::string_view host, std::string_view agent) {
  char buf[1024];
  size_t n = 0;
  auto put = [&](std::string_view piece) {
    piece = piece.substr(0, sizeof(buf) - n);  // an identity longer than 1 KiB is cut (same cut every time)
    std::memcpy(buf + n, piece.data(), piece.size());
    n += piece.size();
  };
  put(host);
  put(std::string_view("\0", 1));
  // The agent without its spaces, copied a run at a time.
  for (size_t pos = 0; pos < agent.size();) {
    const void* sp = std::memchr(agent.data() + pos, ' ', agent.size() - pos);
    size_t end = sp ? static_cast<const char*>(sp) - agent.data() : agent.size();
    put(agent.substr(pos, end - pos));
    pos = end + 1;
  }
  uint64_t h = 0x243f6a8885a308d3ull ^ (static_cast<uint64_t>(day) << 16) ^ host.size();
  auto mix = [&h](uint64_t w) {
    h = (h ^ w) * 0x9fb21c651e98df25ull;
    h ^= h >> 29;
  };
  size_t i = 0;
  for (uint64_t w; i + 8 <= n; i += 8) std::memcpy(&w, buf + i, 8), mix(w);
  uint64_t tail = 0;
  std::memcpy(&tail, buf + i, n - i);  // fewer than 8 bytes
  mix(tail ^ (static_cast<uint64_t>(n - i) << 59));
  return MixHash(h);
}

// The visitors a mapper has seen: an open-addressing set of (hash, day), so the per-line check
// costs one probe in a flat array. Grows at half full.
class VisitorSet {
 public:
  VisitorSet() { slots_.resize(1 << 12); }
  // True if new.
  bool Insert(uint64_t hash, int32_t day) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    return InsertSlot(Visitor{hash | 1, day});
  }
  size_t size() const { return size_; }
  template <class F>
  void ForEach(F f) const {
    for (const Visitor& v : slots_) {
      if (v.hash != 0) f(v);
    }
  }
  void Clear() {
    slots_.assign(1 << 12, Visitor{0, 0});
    size_ = 0;
  }

 private:
  bool InsertSlot(Visitor v) {
    size_t mask = slots_.size() - 1;
    for (size_t i = (v.hash ^ (static_cast<uint64_t>(v.day) * 0x9e3779b97f4a7c15ull)) & mask;; i = (i + 1) & mask) {
      if (slots_[i].hash == 0) {
        slots_[i] = v;
        size_++;
        return true;
      }
      if (slots_[i] == v) return false;
    }
  }
  void Grow() {
    std::vector<Visitor> old(slots_.size() * 2, Visitor{0, 0});
    old.swap(slots_);
    size_ = 0;
    for (const Visitor& v : old) {
      if (v.hash != 0) InsertSlot(v);
    }
  }
  std::vector<Visitor> slots_;
  size_t size_ = 0;
};

class WeblogMapper : public Mapper {
 public:
  WeblogMapper(bool log_time, const LogFormat& format, const TaskContext& ctx)
      : log_time_(log_time), format_(format), ctx_(ctx), counters_(ctx.counters), hours_(24), statuses_(1000) {}

  void Map(const InputRecord& record, Emitter& out) override {
    std::optional<LogLine> line = format_.Parse(record.line);
    if (!line) {
      if (counters_) counters_->Add(kWeblogMalformedCounter, 1);
      failed_++;
      return;
    }
    valid_++;
    if (!AddChecked(&bandwidth_, line->bytes)) return ctx_.Fail(SumOverflowError("bandwidth"));
    const CivilTime& t = log_time_ ? line->local : line->utc;
    char day[16];
    char* p = PutDigits(day, t.year, 4);
    *p++ = '-';
    p = PutDigits(p, t.month, 2);
    *p++ = '-';
    p = PutDigits(p, t.day, 2);
    *p++ = 'T';
    p = PutDigits(p, t.hour, 2);
    std::string_view day_hour(day, p - day), day_only(day, 10);

    const bool counts_visitor = line->status / 100 != 4;
    const int64_t bytes = line->bytes;
    std::string_view referrer, agent;
    if (!LineReferrerAgent(*line, &referrer, &agent) || agent.empty()) agent = "-";
    uint64_t visitor = 0;
    if (counts_visitor) {
      const int32_t ymd = t.year * 10000 + t.month * 100 + t.day;
      visitor = VisitorHashOf(ymd, line->host, agent);
      if (visitors_.Insert(visitor, ymd)) memory_ += 32;
    }
    auto add = [&](Entry& e) {
      e.hits++;
      if (!AddChecked(&e.bytes, bytes)) overflow_ = true;
      if (counts_visitor && e.last_visitor != visitor) {
        e.last_visitor = visitor;
        bool was_exact = e.visitors.exact();
        e.visitors.Add(visitor);
        if (was_exact && !e.visitors.exact()) memory_ += DistinctSketch::kRegisters;
      }
    };

    auto [os, browser] = Families(agent);
    // "METHOD PATH[ PROTOCOL]": the request as written, one view when the parts are contiguous.
    std::string_view request;
    const std::string_view last = line->protocol.empty() ? line->path : line->protocol;
    if (line->path.data() == line->method.data() + line->method.size() + 1 &&
        (line->protocol.empty() || line->protocol.data() == line->path.data() + line->path.size() + 1)) {
      request = std::string_view(line->method.data(), last.data() + last.size() - line->method.data());
    } else {
      request_.assign(line->method);
      request_.push_back(' ');
      request_.append(line->path);
      if (!line->protocol.empty()) {
        request_.push_back(' ');
        request_.append(line->protocol);
      }
      request = request_;
    }
    int kind = line->status == 404 ? 2 : IsStaticFile(line->path) ? 1 : 0;
    add(requests_[kind].Get(request, &memory_));
    add(hosts_.Get(line->host, &memory_));
    add(os_.Get(os));
    add(browsers_.Get(browser));
    add(hours_[t.hour]);
    std::string_view site = ReferrerSite(referrer);
    if (!site.empty()) add(sites_.Get(site, &memory_));
    add(statuses_[line->status]);
    Entry& day_entry = days_.Get(day_only, &memory_);  // its visitors are counted exactly ('V')
    day_entry.hits++;
    if (!AddChecked(&day_entry.bytes, bytes)) overflow_ = true;
    add(hourly_.Get(day_hour, &memory_));
    if (overflow_) return ctx_.Fail(SumOverflowError(request));
    if (memory_ > kFlushBytes) Flush(out);
  }

  void Finish(Emitter& out) override { Flush(out); }

 private:
  // The OS and browser families of an agent, from a direct-mapped cache keyed by the agent's
  // hash (agents repeat a lot; a collision could only mislabel a family, at odds of 2^-64).
  std::pair<std::string_view, std::string_view> Families(std::string_view agent) {
    const uint64_t h = FastHash(agent) | 1;
    FamilySlot& slot = families_[h & (kFamilySlots - 1)];
    if (slot.hash != h) slot = FamilySlot{h, OsFamily(agent), BrowserFamily(agent)};
    return {slot.os, slot.browser};
  }

  void Flush(Emitter& out) {
    static constexpr char kRequestCodes[] = {'R', 'S', 'N'};
    for (int k = 0; k < 3; k++) requests_[k].Emit(kRequestCodes[k], out, &key_, &value_);
    hosts_.Emit('H', out, &key_, &value_);
    sites_.Emit('F', out, &key_, &value_);
    days_.Emit('D', out, &key_, &value_);
    hourly_.Emit('Y', out, &key_, &value_);
    os_.Emit('O', out, &key_, &value_);
    browsers_.Emit('B', out, &key_, &value_);
    auto emit_indexed = [&](char code, std::vector<Entry>& entries, int width) {
      for (size_t i = 0; i < entries.size(); i++) {
        if (entries[i].hits == 0) continue;
        key_.assign(1, code);
        key_.resize(1 + width);
        PutDigits(key_.data() + 1, static_cast<int>(i), width);
        value_.clear();
        entries[i].Encode(&value_);
        out.Emit(key_, value_);
        entries[i] = Entry{};
      }
    };
    emit_indexed('T', hours_, 2);
    emit_indexed('C', statuses_, 3);
    visitors_.ForEach([&](const Visitor& v) {
      key_.assign(1, kVisitorCode);
      key_.resize(11);
      char* d = key_.data() + 1;
      d = PutDigits(d, v.day / 10000, 4);
      *d++ = '-';
      d = PutDigits(d, v.day / 100 % 100, 2);
      *d++ = '-';
      PutDigits(d, v.day % 100, 2);
      PutFixed64BE(&key_, v.hash);
      out.Emit(key_, "");
    });
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
    for (auto& table : requests_) table.Clear();
    hosts_.Clear();
    sites_.Clear();
    days_.Clear();
    hourly_.Clear();
    os_.Clear();
    browsers_.Clear();
    visitors_.Clear();
    valid_ = failed_ = bandwidth_ = 0;
    memory_ = 0;
  }

  const bool log_time_;
  const LogFormat format_;
  const TaskContext ctx_;
  Counters* const counters_;
  bool overflow_ = false;  // a bytes sum left the signed 64-bit range
  ItemTable requests_[3];  // requests, static_requests, not_found
  ItemTable hosts_, sites_, days_, hourly_;
  FamilyTable os_, browsers_;
  std::vector<Entry> hours_;     // by hour of day
  std::vector<Entry> statuses_;  // by status code
  VisitorSet visitors_;
  struct FamilySlot {
    uint64_t hash = 0;
    std::string_view os, browser;
  };
  static constexpr size_t kFamilySlots = 1024;
  std::vector<FamilySlot> families_ = std::vector<FamilySlot>(kFamilySlots);
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
    if (e.overflow) return ctx_.Fail(SumOverflowError(key.substr(1)));
    value_.clear();
    e.Encode(&value_);
    out.Emit(key, value_);
  }

 private:
  TaskContext ctx_;
  std::string value_;
};

bool HitsFirst(const WeblogRow& a, const WeblogRow& b) {
  return a.hits != b.hits ? a.hits > b.hits : a.item < b.item;
}

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
      out_.day_visitors[std::string(key.substr(1, 10))]++;
      return;
    }
    Entry e;
    while (values.Next(&v)) {
      if (!e.MergeEncoded(v)) return ctx_.Fail("weblog: a corrupt intermediate value");
    }
    if (e.overflow) return ctx_.Fail(SumOverflowError(key.substr(1)));
    if (code == kTotalCode) {
      if (key == "#valid") {
        if (!AddChecked(&out_.valid_requests, e.hits) || !AddChecked(&out_.bandwidth, e.bytes)) {
          return ctx_.Fail(SumOverflowError("bandwidth"));
        }
      } else if (!AddChecked(&out_.failed_requests, e.hits)) {
        return ctx_.Fail(SumOverflowError("failed_requests"));
      }
      return;
    }
    const WeblogPanel* panel = FindPanel(code);
    if (panel == nullptr) return ctx_.Fail(fmt::format("weblog: an unknown panel code {}", static_cast<int>(code)));
    out_.counts[panel->id]++;
    std::vector<WeblogRow>& rows = out_.panels[panel->id];
    rows.push_back(WeblogRow{std::string(key.substr(1)), e.hits, static_cast<int64_t>(e.visitors.Estimate()), e.bytes});
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
    for (auto& [day, n] : out_.day_visitors) out_.unique_visitors += n;
    for (auto& [k, v] : WeblogOutputLines(static_cast<uint32_t>(partition_), out_)) out.Emit(k, v);
  }

 private:
  TaskContext ctx_;
  const size_t top_;
  int64_t partition_ = -1;
  WeblogReport out_;  // this partition's output
};

class Weblog : public Job {
 public:
  Weblog(bool log_time, size_t top, LogFormat format) : log_time_(log_time), top_(top), format_(std::move(format)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<WeblogMapper>(log_time_, format_, ctx);
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
