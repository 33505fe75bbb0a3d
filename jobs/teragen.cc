#include "jobs/teragen.h"

#include <zlib.h>

#include <charconv>
#include <cstring>
#include <fmt/format.h>


namespace mr {
namespace {

constexpr size_t kRecord = 100;
constexpr uint64_t kRowsPerEmit = 10000;  // rows written per Emit (1 MB)

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const char kHex[] = "0123456789ABCDEF";

// Writes the rows of each range line it gets, in row order, 1 MB per Emit (an empty key and the
// rows as the value: the job's output is raw).
class TeraGenMapper : public Mapper {
 public:
  TeraGenMapper(const TaskContext& ctx, bool ascii) : ctx_(ctx), ascii_(ascii) {}
  void Map(const InputRecord& record, Emitter& out) override {
    uint64_t v[3];
    std::string_view rest = record.line;
    for (uint64_t& x : v) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      auto r = std::from_chars(rest.data(), rest.data() + rest.size(), x);
      if (r.ec != std::errc()) {
        ctx_.Fail(fmt::format("teragen: bad range line '{}' (want PART FIRST COUNT)", record.line.substr(0, 60)));
        return;
      }
      rest.remove_prefix(r.ptr - rest.data());
    }
    const uint64_t first = v[1], count = v[2];
    int64_t checksum = 0;
    std::string buf;
    for (uint64_t done = 0; done < count;) {
      uint64_t n = std::min(kRowsPerEmit, count - done);
      buf.resize(n * kRecord);
      for (uint64_t i = 0; i < n; i++) {
        char* rec = buf.data() + i * kRecord;
        TeraGenRecord(first + done + i, ascii_, rec);
        checksum += Crc32({rec, kRecord});
      }
      out.Emit({}, buf);
      done += n;
    }
    ctx_.counters->Add("teragen.rows", static_cast<int64_t>(count));
    ctx_.counters->Add("teragen.checksum", checksum);
  }

 private:
  TaskContext ctx_;
  const bool ascii_;
};

class TeraGen : public Job {
 public:
  explicit TeraGen(bool ascii) : ascii_(ascii) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext& ctx) const override {
    return std::make_unique<TeraGenMapper>(ctx, ascii_);
  }
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override { return nullptr; }
  bool RawOutput() const override { return true; }

 private:
  const bool ascii_;
};

}  // namespace

void TeraGenRecord(uint64_t row, bool ascii, char* out) {
  uint64_t a = SplitMix64(row * 2), b = SplitMix64(row * 2 + 1);
  unsigned char key[10];
  std::memcpy(key, &a, 8);
  std::memcpy(key + 8, &b, 2);
  char hex[32];
  for (int i = 0; i < 16; i++) hex[i] = '0';  // the high 64 bits of the 128-bit row id
  for (int i = 0; i < 16; i++) hex[31 - i] = kHex[(row >> (4 * i)) & 15];
  char* p = out;
  if (ascii) {
    for (unsigned char k : key) *p++ = static_cast<char>(' ' + k % 95);
    *p++ = ' ';
    *p++ = ' ';
    std::memcpy(p, hex, 32);
    p += 32;
    *p++ = ' ';
    *p++ = ' ';
    for (int i = 0; i < 52; i++) *p++ = kHex[(b >> (4 * (i / 4 % 16))) & 15];  // 13 runs of 4
    *p++ = '\r';
    *p++ = '\n';
  } else {
    std::memcpy(p, key, 10);
    p += 10;
    *p++ = 0x00;
    *p++ = 0x11;
    std::memcpy(p, hex, 32);
    p += 32;
    for (unsigned char c : {0x88, 0x99, 0xAA, 0xBB}) *p++ = static_cast<char>(c);
    for (int i = 0; i < 48; i++) *p++ = kHex[(b >> (4 * (i / 4 % 16))) & 15];  // 12 runs of 4
    for (unsigned char c : {0xCC, 0xDD, 0xEE, 0xFF}) *p++ = static_cast<char>(c);
  }
}

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(::crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

Result<std::unique_ptr<Job>> MakeTeraGen(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("teragen", args, {"ascii"}));
  auto ascii = GetBoolArg(args, "ascii", false);
  if (!ascii.ok()) return ascii.status();
  return std::unique_ptr<Job>(new TeraGen(*ascii));
}

}  // namespace mr
