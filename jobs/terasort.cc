#include "jobs/terasort.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace mr {
namespace {

constexpr size_t kSampleKeys = 100000;  // Hadoop's default sample size
constexpr size_t kSampleSplits = 10;    // ... taken from at most this many splits
constexpr size_t kRunsPerSplit = 20;    // each split read as this many evenly spaced runs

uint64_t Prefix(std::string_view key) {
  unsigned char b[8] = {};
  std::memcpy(b, key.data(), std::min<size_t>(8, key.size()));
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

class TeraMapper : public Mapper {
 public:
  explicit TeraMapper(const TaskContext& ctx) : ctx_(ctx) {}
  void Map(const InputRecord& record, Emitter& out) override { MapRecords(record.line, out); }
  bool MapBlock(const InputBlock& block, Emitter& out) override {
    MapRecords(block.text, out);
    return true;
  }

 private:
  void MapRecords(std::string_view text, Emitter& out) {
    if (text.size() % kTeraRecordBytes != 0) {
      ctx_.Fail(fmt::format("terasort reads {}-byte records (input format records:{})", kTeraRecordBytes,
                            kTeraRecordBytes));
      return;
    }
    for (size_t i = 0; i < text.size(); i += kTeraRecordBytes) {
      out.Emit(text.substr(i, kTeraKeyBytes), text.substr(i + kTeraKeyBytes, kTeraRecordBytes - kTeraKeyBytes));
    }
  }
  TaskContext ctx_;
};

// Writes each record back as it was: key, then the rest.
class TeraReducer : public Reducer {
 public:
  void Reduce(std::string_view key, ValueIterator& values, Emitter& out) override {
    std::string_view v;
    while (values.Next(&v)) out.Emit(key, v);
  }
};

class TeraSort : public Job {
 public:
  explicit TeraSort(std::vector<std::string> cuts) : cuts_(std::move(cuts)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<TeraMapper>(ctx);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override {
    return std::make_unique<TeraReducer>();
  }
  std::unique_ptr<Partitioner> NewPartitioner() const override {
    return std::make_unique<TotalOrderPartitioner>(cuts_);
  }
  std::string InputFormat() const override { return fmt::format("records:{}", kTeraRecordBytes); }
  bool RawOutput() const override { return true; }
  bool Plan(const std::vector<InputSplitInfo>& splits, uint32_t reducers, JobArgs* extra,
            std::string* error) const override {
    auto sample = SampleKeys(splits, kSampleKeys);
    if (!sample.ok()) {
      *error = sample.status().message();
      return false;
    }
    (*extra)["_cuts"] = EncodeCutPoints(PickCutPoints(std::move(*sample), reducers));
    return true;
  }

 private:
  const std::vector<std::string> cuts_;
};

}  // namespace

std::vector<std::string> PickCutPoints(std::vector<std::string> sample, uint32_t reducers) {
  std::vector<std::string> cuts;
  if (reducers <= 1 || sample.empty()) return cuts;
  std::sort(sample.begin(), sample.end());
  const size_t n = sample.size();
  size_t start = 0;  // the first sample of the partition being cut
  for (uint32_t p = 1; p < reducers; p++) {
    // An even share of what is left for each partition still to come.
    size_t idx = start + (n - start) / (reducers - p + 1);
    if (idx >= n) break;
    if (!cuts.empty() && sample[idx] <= cuts.back()) {
      idx = std::upper_bound(sample.begin(), sample.end(), cuts.back()) - sample.begin();
      if (idx >= n) break;
    }
    if (sample[idx] == sample[0]) {  // a cut at the smallest key would leave partition 0 empty
      idx = std::upper_bound(sample.begin(), sample.end(), sample[0]) - sample.begin();
      if (idx >= n) break;
    }
    cuts.push_back(sample[idx]);
    start = std::lower_bound(sample.begin(), sample.end(), sample[idx]) - sample.begin();
  }
  return cuts;
}

Result<std::vector<std::string>> SampleKeys(const std::vector<InputSplitInfo>& splits, size_t max_keys) {
  std::vector<std::string> keys;
  if (splits.empty() || max_keys == 0) return keys;
  const size_t chosen = std::min(kSampleSplits, splits.size());
  const size_t per_split = std::max<size_t>(1, max_keys / chosen);
  std::string buf;
  for (size_t s = 0; s < chosen; s++) {
    const InputSplitInfo& split = splits[s * splits.size() / chosen];
    int fd = ::open(split.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError(fmt::format("cannot read {}: {}", split.path, std::strerror(errno)));
    const uint64_t records = split.length / kTeraRecordBytes;
    const uint64_t want = std::min<uint64_t>(records, per_split);
    const uint64_t runs = std::min<uint64_t>(kRunsPerSplit, want);
    Status status;
    for (uint64_t r = 0; r < runs && status.ok(); r++) {
      uint64_t first = records * r / runs;  // evenly spaced runs of records
      uint64_t count = want * (r + 1) / runs - want * r / runs;
      buf.resize(count * kTeraRecordBytes);
      ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(split.offset + first * kTeraRecordBytes));
      if (n != static_cast<ssize_t>(buf.size())) {
        status = Status::IoError(fmt::format("cannot read {} at {}: {}", split.path,
                                             split.offset + first * kTeraRecordBytes,
                                             n < 0 ? std::strerror(errno) : "file is shorter than when listed"));
        break;
      }
      for (uint64_t i = 0; i < count; i++) keys.emplace_back(buf.data() + i * kTeraRecordBytes, kTeraKeyBytes);
    }
    ::close(fd);
    MR_RETURN_IF_ERROR(status);
  }
  return keys;
}

std::string EncodeCutPoints(const std::vector<std::string>& cuts) {
  std::string out;
  for (size_t i = 0; i < cuts.size(); i++) {
    if (i > 0) out.push_back(',');
    for (unsigned char c : cuts[i]) out += fmt::format("{:02x}", c);
  }
  return out;
}

Result<std::vector<std::string>> DecodeCutPoints(std::string_view text) {
  std::vector<std::string> cuts;
  if (text.empty()) return cuts;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (item.empty() || item.size() % 2 != 0) return Status::InvalidArgument("--arg _cuts: malformed cut points");
    std::string key;
    for (size_t i = 0; i < item.size(); i += 2) {
      int hi = hex(item[i]), lo = hex(item[i + 1]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("--arg _cuts: malformed cut points");
      key.push_back(static_cast<char>(hi * 16 + lo));
    }
    if (!cuts.empty() && key <= cuts.back()) return Status::InvalidArgument("--arg _cuts: cut points not increasing");
    cuts.push_back(std::move(key));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return cuts;
}

TotalOrderPartitioner::TotalOrderPartitioner(const std::vector<std::string>& cuts) {
  for (const auto& c : cuts) cuts_.push_back({Prefix(c), c});
}

uint32_t TotalOrderPartitioner::Partition(std::string_view key, uint32_t reducers) const {
  const uint64_t prefix = Prefix(key);
  // The number of cut points <= key.
  size_t lo = 0, hi = cuts_.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const Cut& c = cuts_[mid];
    bool le = c.prefix != prefix ? c.prefix < prefix : std::string_view(c.key) <= key;
    if (le) lo = mid + 1;
    else hi = mid;
  }
  return static_cast<uint32_t>(std::min<size_t>(lo, reducers - 1));
}

Result<std::unique_ptr<Job>> MakeTeraSort(const JobArgs& args) {
  std::vector<std::string> cuts;
  for (auto& [key, value] : args) {
    if (key != "_cuts") {
      return Status::InvalidArgument(fmt::format("job terasort has no argument '{}' (it takes none)", key));
    }
    auto decoded = DecodeCutPoints(value);
    if (!decoded.ok()) return decoded.status();
    cuts = std::move(*decoded);
  }
  return std::unique_ptr<Job>(new TeraSort(std::move(cuts)));
}

}  // namespace mr
