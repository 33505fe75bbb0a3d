#include "worker/map_output.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>
#include <utility>
#include <fmt/format.h>

#include "common/failpoint.h"
#include "common/hash.h"
#include "common/record.h"
#include "jobs/sum_reducer.h"
#include "worker/part_writer.h"

namespace mr {
namespace {

uint32_t PartitionFor(const SpillTarget& t, std::string_view key) {
  return t.partitioner ? t.partitioner->Partition(key, t.reducers) : PartitionOf(key, t.reducers);
}

// A fast in-memory hash for the combine table (not the partition hash, which must be stable).
inline uint64_t TableHash(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t v;
  if (n >= 4) {  // Two overlapping 4-byte loads cover 4..7 bytes; no byte loop, no stack round trip.
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    v = (uint64_t{a} << 32) | b;
  } else if (n > 0) {
    const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
    v = (uint64_t{u[0]} << 16) | (uint64_t{u[n >> 1]} << 8) | u[n - 1];
  } else {
    v = 0;
  }
  h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

// Equality of two n-byte keys without a call to memcmp: short words dominate word counts.
inline bool KeysEqual(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    uint64_t x, y;  // the last 8 bytes, overlapping what was compared
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    uint32_t x1, y1, x2, y2;
    std::memcpy(&x1, a, 4);
    std::memcpy(&y1, b, 4);
    std::memcpy(&x2, a + n - 4, 4);
    std::memcpy(&y2, b + n - 4, 4);
    return x1 == y1 && x2 == y2;
  }
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Bump allocator for keys; blocks are never moved, so pointers stay valid until Clear().
class Arena {
 public:
  const char* Copy(std::string_view s) {
    if (s.size() > left_) {
      size_t size = std::max<size_t>(kBlock, s.size());
      blocks_.emplace_back(new char[size]);
      ptr_ = blocks_.back().get();
      left_ = size;
    }
    bytes_ += s.size();
    char* out = ptr_;
    std::memcpy(out, s.data(), s.size());
    ptr_ += s.size();
    left_ -= s.size();
    return out;
  }
  // Bytes handed out (not block capacity, so a fresh block does not count as full).
  size_t bytes() const { return bytes_; }
  void Clear() {
    blocks_.clear();
    ptr_ = nullptr;
    left_ = 0;
    bytes_ = 0;
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* ptr_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
};

struct SortedEntry {
  uint32_t partition;
  std::string_view key;
  bool operator<(const SortedEntry& o) const {
    return partition != o.partition ? partition < o.partition : key < o.key;
  }
};

class SumBuffer : public MapOutputBuffer {
 public:
  SumBuffer(const SpillTarget& target, uint64_t budget, CounterSet* counters)
      : target_(target), budget_(budget), counters_(counters) {
    slots_.resize(kInitialSlots);
  }

  void Emit(std::string_view key, std::string_view value) override {
    int64_t n;
    if (value.size() == 1 && value[0] >= '0' && value[0] <= '9') {
      n = value[0] - '0';
    } else {
      auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec == std::errc::result_out_of_range && status_.ok()) {
        status_ = Status::InvalidArgument(SumOverflowError(key));
        return;
      }
      if (r.ec != std::errc() || r.ptr != value.data() + value.size()) {
        if (status_.ok()) {
          status_ = Status::InvalidArgument(fmt::format(
              "value '{}' of key '{}' is not an integer, but the job sums its values",
              value.substr(0, 40), key.substr(0, 40)));
        }
        return;
      }
    }
    records_++;
    Add(key, TableHash(key.data(), key.size()), n);
  }

  Status Flush() override {
    counters_->Add(counter::kMapOutputRecords, records_);
    records_ = 0;
    if (used_ == 0) return status_;
    std::vector<std::pair<SortedEntry, int64_t>> entries;
    entries.reserve(used_);
    for (const Slot& s : slots_) {
      if (s.key == nullptr) continue;
      std::string_view key(s.key, s.len);
      entries.push_back({{PartitionFor(target_, key), key}, s.sum});
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    MR_FAILPOINT("map.before_spill");
    auto writer = target_.store->NewRun(target_.id, target_.next_spill->fetch_add(1), target_.codec);
    std::string values;
    for (auto& [e, sum] : entries) {
      values.clear();
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), sum);
      PutLengthPrefixed(&values, std::string_view(buf, r.ptr - buf));
      Status s = writer->Add(e.partition, e.key, values);
      if (!s.ok()) return s;
    }
    auto bytes = writer->Finish();
    if (!bytes.ok()) return bytes.status();
    MR_FAILPOINT("map.after_spill");
    counters_->Add(counter::kCombineOutputRecords, static_cast<int64_t>(entries.size()));
    counters_->Add(counter::kSpillBytes, static_cast<int64_t>(*bytes));
    counters_->Add(counter::kMapOutputBytes, static_cast<int64_t>(writer->raw_bytes()));
    counters_->Add(counter::kMapOutputCompressedBytes, static_cast<int64_t>(writer->block_bytes()));
    counters_->Add(counter::kSpills, 1);
    Clear();
    return status_;
  }

  void MergeFrom(SumBuffer* other) {
    for (const Slot& s : other->slots_) {
      if (s.key != nullptr) Add(std::string_view(s.key, s.len), s.hash, s.sum);
    }
    records_ += other->records_;
    other->records_ = 0;
    other->Clear();
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* key = nullptr;
    uint32_t len = 0;
    int64_t sum = 0;
  };
  static constexpr size_t kInitialSlots = 1 << 14;

  void Add(std::string_view key, uint64_t hash, int64_t n) {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == nullptr) {
        s.hash = hash;
        s.key = arena_.Copy(key);
        s.len = static_cast<uint32_t>(key.size());
        s.sum = n;
        if (++used_ * 2 > slots_.size()) Grow();
        if (arena_.bytes() + slots_.size() * sizeof(Slot) > budget_ && status_.ok()) {
          Status st = Flush();
          if (!st.ok()) status_ = st;
        }
        return;
      }
      if (s.hash == hash && s.len == key.size() && KeysEqual(s.key, key.data(), key.size())) {
        if (__builtin_add_overflow(s.sum, n, &s.sum) && status_.ok()) {  // never wraps
          status_ = Status::InvalidArgument(SumOverflowError(key));
        }
        return;
      }
    }
  }

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == nullptr) continue;
      size_t i = s.hash & mask;
      while (slots_[i].key != nullptr) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  void Clear() {
    slots_.assign(kInitialSlots, Slot{});
    used_ = 0;
    arena_.Clear();
  }

  SpillTarget target_;
  uint64_t budget_;
  CounterSet* counters_;
  std::vector<Slot> slots_;
  size_t used_ = 0;
  int64_t records_ = 0;
  Arena arena_;
};

// The first 8 bytes of a key as a big-endian integer (zero-padded): comparing two of them orders
// most keys without touching the key bytes again.
inline uint64_t KeyPrefix(std::string_view key) {
  uint64_t v = 0;
  if (key.size() >= 8) {
    std::memcpy(&v, key.data(), 8);
    return __builtin_bswap64(v);
  }
  unsigned char b[8] = {};
  std::memcpy(b, key.data(), key.size());
  std::memcpy(&v, b, 8);
  return __builtin_bswap64(v);
}

// Anonymous memory of its own (mmap), so that it goes back to the system when freed instead of
// staying in malloc's heap: the worker's memory falls back after a map task.
class MappedBlock {
 public:
  explicit MappedBlock(size_t size) : size_(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
  }
  ~MappedBlock() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  MappedBlock(MappedBlock&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  MappedBlock& operator=(MappedBlock&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

// Blocks of record bytes, kept across spills so that their pages are faulted in once.
class RecordArena {
 public:
  char* Alloc(size_t n) {
    if (n > left_) NextBlock(n);
    char* out = ptr_;
    ptr_ += n;
    left_ -= n;
    bytes_ += n;
    return out;
  }
  size_t bytes() const { return bytes_; }
  // Forgets the records; keeps the standard blocks for reuse.
  void Clear() {
    std::erase_if(blocks_, [](const MappedBlock& b) { return b.size() != kBlock; });
    if (blocks_.size() > kKeptBlocks) blocks_.erase(blocks_.begin() + kKeptBlocks, blocks_.end());
    next_ = 0;
    ptr_ = nullptr;
    left_ = 0;
    bytes_ = 0;
  }

 private:
  static constexpr size_t kBlock = 4 << 20;
  static constexpr size_t kKeptBlocks = 64;
  void NextBlock(size_t n) {
    if (n > kBlock) {  // a huge record gets a block of its own, placed before the reusable ones
      blocks_.insert(blocks_.begin() + next_, MappedBlock(n));
    } else if (next_ >= blocks_.size()) {
      blocks_.emplace_back(kBlock);
    }
    ptr_ = blocks_[next_].data();
    left_ = blocks_[next_].size();
    next_++;
  }
  std::vector<MappedBlock> blocks_;
  size_t next_ = 0;
  char* ptr_ = nullptr;
  size_t left_ = 0;
  size_t bytes_ = 0;
};

class SortBuffer : public MapOutputBuffer {
 public:
  SortBuffer(const SpillTarget& target, uint64_t budget, CombinerFactory new_combiner, CounterSet* counters)
      : target_(target), budget_(budget), new_combiner_(std::move(new_combiner)), counters_(counters) {}

  void Emit(std::string_view key, std::string_view value) override {
    char* p = arena_.Alloc(key.size() + value.size());
    std::memcpy(p, key.data(), key.size());
    std::memcpy(p + key.size(), value.data(), value.size());
    records_.push_back(Record{0, PartitionFor(target_, key), static_cast<uint32_t>(records_.size()), p,
                              static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
    // Each record counts twice: Sort() scatters the entries into a second array as large.
    if (arena_.bytes() + 2 * records_.size() * sizeof(Record) > budget_ && status_.ok()) {
      Status s = Flush();
      if (!s.ok()) status_ = s;
    }
  }

  Status Flush() override {
    if (records_.empty()) return status_;
    counters_->Add(counter::kMapOutputRecords, static_cast<int64_t>(records_.size()));
    if (!new_combiner_) return WriteSpill();
    // The spill goes through a fresh combiner, key group by key group. What it emits is collected
    // (a streaming combiner's output comes later than its input), then sorted and spilled.
    Sort();
    SortBuffer combined(target_, UINT64_MAX, nullptr, counters_);
    std::unique_ptr<Reducer> combiner = new_combiner_();
    ForEachGroup([&](size_t i, size_t j) {
      GroupValues values(this, i, j);
      combiner->Reduce(Key(records_[i]), values, combined);
    });
    combiner->Finish(combined);
    counters_->Add(counter::kCombineOutputRecords, static_cast<int64_t>(combined.records_.size()));
    Clear();
    MR_RETURN_IF_ERROR(combined.WriteSpill());
    return status_;
  }

 private:
  // 32 bytes; sorted in place. `seq` (emission order) makes the sort stable.
  struct Record {
    uint64_t prefix;  // set by Sort
    uint32_t partition;
    uint32_t seq;
    const char* data;  // key then value, in the arena
    uint32_t klen;
    uint32_t vlen;
  };

  static std::string_view Key(const Record& r) { return {r.data, r.klen}; }
  static std::string_view Value(const Record& r) { return {r.data + r.klen, r.vlen}; }

  // Orders records whose keys all start with the same `common` bytes, and whose prefix holds the
  // 8 key bytes after those.
  struct Less {
    uint32_t common = 0;
    bool operator()(const Record& a, const Record& b) const {
      if (a.partition != b.partition) return a.partition < b.partition;
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      if (a.klen > common + 8 || b.klen > common + 8 || a.klen != b.klen) {
        int c = Key(a).substr(common).compare(Key(b).substr(common));
        if (c != 0) return c < 0;
      }
      return a.seq < b.seq;
    }
  };

  // The bytes every buffered key starts with.
  uint32_t CommonKeyPrefix() const {
    if (records_.empty()) return 0;
    std::string_view first = Key(records_[0]);
    size_t common = first.size();
    for (const Record& r : records_) {
      std::string_view k = Key(r);
      size_t n = std::min(common, k.size());
      common = static_cast<size_t>(std::mismatch(first.begin(), first.begin() + n, k.begin()).first - first.begin());
      if (common == 0) break;
    }
    return static_cast<uint32_t>(common);
  }

  // One counting pass scatters the records into buckets by (partition, first key byte), each then
  // sorted on its own: small enough to stay in cache, unlike one sort over the whole buffer. Keys
  // that share a long beginning (grep's FILE:OFFSET, a path, a date) are compared from where they
  // first differ: their prefixes are taken there, so most comparisons need no memcmp.
  void Sort() {
    const size_t n = records_.size();
    Less less{n < 4096 ? 0 : CommonKeyPrefix()};
    for (Record& r : records_) r.prefix = KeyPrefix(Key(r).substr(less.common));
    const size_t buckets = static_cast<size_t>(target_.reducers) * 256;
    if (n < 4096 || buckets > (1u << 20)) {
      std::sort(records_.begin(), records_.end(), less);
      return;
    }
    auto bucket = [](const Record& r) { return static_cast<size_t>(r.partition) * 256 + (r.prefix >> 56); };
    std::vector<uint32_t> start(buckets + 1, 0);
    for (const Record& r : records_) start[bucket(r) + 1]++;
    for (size_t b = 0; b < buckets; b++) start[b + 1] += start[b];
    scratch_.resize(n);
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (const Record& r : records_) scratch_[next[bucket(r)]++] = r;
    records_.swap(scratch_);
    for (size_t b = 0; b < buckets; b++) {
      if (start[b + 1] - start[b] > 1) std::sort(records_.begin() + start[b], records_.begin() + start[b + 1], less);
    }
  }

  void Clear() {
    records_.clear();
    scratch_.clear();
    scratch_.shrink_to_fit();
    arena_.Clear();
  }

  // Calls fn(i, j) for each run [i, j) of sorted records with the same partition and key.
  template <class Fn>
  void ForEachGroup(Fn&& fn) {
    for (size_t i = 0; i < records_.size();) {
      size_t j = i + 1;
      while (j < records_.size() && records_[j].partition == records_[i].partition &&
             records_[j].prefix == records_[i].prefix && Key(records_[j]) == Key(records_[i])) {
        j++;
      }
      fn(i, j);
      i = j;
    }
  }

  // Sorts what is buffered and writes it as one spill, record by record in (partition, key) order.
  Status WriteSpill() {
    Sort();
    MR_FAILPOINT("map.before_spill");
    auto writer = target_.store->NewRun(target_.id, target_.next_spill->fetch_add(1), target_.codec);
    for (const Record& r : records_) {
      MR_RETURN_IF_ERROR(writer->AddRecord(r.partition, Key(r), Value(r)));
    }
    auto bytes = writer->Finish();
    if (!bytes.ok()) return bytes.status();
    MR_FAILPOINT("map.after_spill");
    counters_->Add(counter::kSpillBytes, static_cast<int64_t>(*bytes));
    counters_->Add(counter::kMapOutputBytes, static_cast<int64_t>(writer->raw_bytes()));
    counters_->Add(counter::kMapOutputCompressedBytes, static_cast<int64_t>(writer->block_bytes()));
    counters_->Add(counter::kSpills, 1);
    Clear();
    return status_;
  }

  class GroupValues : public ValueIterator {
   public:
    GroupValues(const SortBuffer* b, size_t i, size_t j) : b_(b), i_(i), j_(j) {}
    bool Next(std::string_view* v) override {
      if (i_ >= j_) return false;
      *v = Value(b_->records_[i_++]);
      return true;
    }

   private:
    const SortBuffer* b_;
    size_t i_, j_;
  };

  SpillTarget target_;
  uint64_t budget_;
  CombinerFactory new_combiner_;
  CounterSet* counters_;
  RecordArena arena_;
  std::vector<Record> records_;
  std::vector<Record> scratch_;  // for Sort; as large as records_ while a spill is sorted
};

// A map-only job's output: each pair straight to the part file.
class PartBuffer : public MapOutputBuffer {
 public:
  PartBuffer(const std::string& path, bool raw, CounterSet* counters) : out_(raw), counters_(counters) {
    status_ = out_.Open(path);
    open_ = status_.ok();
  }
  void Emit(std::string_view key, std::string_view value) override {
    if (open_) out_.Emit(key, value);
  }
  Status Flush() override {
    if (!open_) return status_;
    open_ = false;
    status_ = out_.Close();
    counters_->Add(counter::kMapOutputRecords, out_.records());
    counters_->Add(counter::kMapOutputBytes, out_.bytes());
    return status_;
  }

 private:
  PartWriter out_;
  CounterSet* counters_;
  bool open_ = false;
};

}  // namespace

std::unique_ptr<MapOutputBuffer> NewPartBuffer(const std::string& path, bool raw, CounterSet* counters) {
  return std::make_unique<PartBuffer>(path, raw, counters);
}

std::unique_ptr<MapOutputBuffer> NewSumBuffer(const SpillTarget& target, uint64_t budget,
                                              CounterSet* counters) {
  return std::make_unique<SumBuffer>(target, budget, counters);
}

void MergeSumBuffers(MapOutputBuffer* into, MapOutputBuffer* other) {
  static_cast<SumBuffer*>(into)->MergeFrom(static_cast<SumBuffer*>(other));
}

std::unique_ptr<MapOutputBuffer> NewSortBuffer(const SpillTarget& target, uint64_t budget,
                                               CombinerFactory new_combiner, CounterSet* counters) {
  return std::make_unique<SortBuffer>(target, budget, std::move(new_combiner), counters);
}

}  // namespace mr
