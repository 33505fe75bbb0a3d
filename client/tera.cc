#include "client/tera.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "client/commands.h"
#include "jobs/teragen.h"
#include "jobs/terasort.h"
#include "common/inputs.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

// A teragen range line's size: the smallest split (so each line is a split of its own).
constexpr size_t kRangeLineBytes = 4096;

Result<uint64_t> ParseRows(const std::string& text) {
  uint64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view suffix(r.ptr, text.data() + text.size() - r.ptr);
  uint64_t mult = suffix.empty() ? 1 : suffix == "k" ? 1000 : suffix == "m" ? 1000000 : suffix == "g" ? 1000000000 : 0;
  if (r.ec != std::errc() || mult == 0 || n > UINT64_MAX / mult) {
    return Status::InvalidArgument(fmt::format("ROWS '{}': want a number of rows, e.g. 10000000 or 10m", text));
  }
  return n * mult;
}

std::string Hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

int CmdTeraGen(const TeraGenOptions& o) {
  auto rows = ParseRows(o.rows);
  if (!rows.ok()) return std::fprintf(stderr, "mr: %s\n", rows.status().message().c_str()), kExitUsage;
  if (*rows == 0) return std::fprintf(stderr, "mr: ROWS must be at least 1\n"), kExitUsage;
  uint64_t parts = o.parts > 0 ? o.parts : 2 * std::max(1, o.run.workers);
  parts = std::min<uint64_t>(parts, *rows);
  const char* tmp_root = std::getenv("TMPDIR");
  std::string dir = fmt::format("{}/mr-teragen-XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
  if (::mkdtemp(dir.data()) == nullptr) {
    return std::fprintf(stderr, "mr: cannot create a temporary directory under %s\n", dir.c_str()), kExitFailed;
  }
  std::string ranges = dir + "/ranges";
  {
    std::ofstream f(ranges);
    // One line per part, each padded to one split: each map gets one range, so part P is map P's.
    for (uint64_t p = 0; p < parts; p++) {
      uint64_t first = *rows * p / parts, end = *rows * (p + 1) / parts;
      std::string line = fmt::format("{} {} {}", p, first, end - first);
      line.resize(kRangeLineBytes - 1, ' ');
      f << line << '\n';
    }
    if (!f) return std::fprintf(stderr, "mr: cannot write %s\n", ranges.c_str()), kExitFailed;
  }
  RunOptions run = o.run;
  run.submit.job = "teragen";
  run.submit.inputs = {ranges};
  run.submit.output = o.dir;
  run.submit.reducers = 0;  // a map-only job
  run.submit.split_size = std::to_string(kRangeLineBytes);
  if (o.ascii) run.submit.args.push_back("ascii=true");
  run.show = 0;  // 100-byte rows, not lines: nothing to show at a glance
  int code = CmdRun(run);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return code;
}

Result<TeraSummary> ScanTeraFiles(const std::vector<std::string>& files, bool check_order) {
  TeraSummary sum;
  std::string prev_key, prev_where;
  std::string buf(4u << 20, '\0');  // a multiple of the record size
  buf.resize(buf.size() / kTeraRecordBytes * kTeraRecordBytes);
  for (const std::string& path : files) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t index = 0;  // record number in this file
    size_t have = 0;
    while (true) {
      ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return Status::IoError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
      }
      have += static_cast<size_t>(n);
      if (n > 0 && have < buf.size()) continue;  // fill the buffer: whole records only
      size_t whole = have / kTeraRecordBytes * kTeraRecordBytes;
      for (size_t off = 0; off < whole; off += kTeraRecordBytes, index++) {
        std::string_view rec(buf.data() + off, kTeraRecordBytes);
        sum.checksum += Crc32(rec);
        sum.records++;
        if (!check_order || !sum.problem.empty()) continue;
        std::string_view key = rec.substr(0, kTeraKeyBytes);
        if (!prev_where.empty() && key < std::string_view(prev_key)) {
          sum.problem = fmt::format("misordered: {} record {} (byte {}) has key {}, less than the key {} of {}", path,
                                    index, index * kTeraRecordBytes, Hex(key), Hex(prev_key), prev_where);
        }
        prev_key.assign(key);
        prev_where = fmt::format("{} record {}", path, index);
      }
      if (n == 0) {
        if (have != whole && sum.problem.empty()) {
          sum.problem = fmt::format("{} ends with a partial record of {} bytes", path, have - whole);
        }
        break;
      }
      have = 0;
    }
    ::close(fd);
  }
  return sum;
}

int CmdTeraValidate(const TeraValidateOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.dir, ec)) return std::fprintf(stderr, "mr: %s is not a directory\n", o.dir.c_str()), kExitUsage;
  auto files = ExpandInputs({o.dir});
  if (!files.ok()) return std::fprintf(stderr, "mr: %s\n", files.status().message().c_str()), kExitFailed;
  std::vector<std::string> paths;
  for (auto& f : *files) paths.push_back(f.path);  // sorted by path: part-r-00000 first
  auto out = ScanTeraFiles(paths, true);
  if (!out.ok()) return std::fprintf(stderr, "mr: %s\n", out.status().message().c_str()), kExitFailed;
  std::string problem = out->problem;
  if (problem.empty() && paths.empty()) problem = fmt::format("{} holds no output files", o.dir);
  if (!o.inputs.empty()) {
    auto in_files = ExpandInputs(o.inputs);
    if (!in_files.ok()) return std::fprintf(stderr, "mr: %s\n", in_files.status().message().c_str()), kExitFailed;
    std::vector<std::string> in_paths;
    for (auto& f : *in_files) in_paths.push_back(f.path);
    auto in = ScanTeraFiles(in_paths, false);
    if (!in.ok()) return std::fprintf(stderr, "mr: %s\n", in.status().message().c_str()), kExitFailed;
    if (problem.empty() && !in->problem.empty()) problem = "input: " + in->problem;
    if (problem.empty() && (in->records != out->records || in->checksum != out->checksum)) {
      problem = fmt::format("the output ({} records, checksum {:x}) does not hold the input's records ({} records, checksum {:x})",
                            out->records, out->checksum, in->records, in->checksum);
    }
  }
  if (o.json) {
    std::printf("{\"records\": %lu, \"checksum\": \"%lx\", \"ok\": %s, \"problem\": \"%s\"}\n",
                static_cast<unsigned long>(out->records), static_cast<unsigned long>(out->checksum),
                problem.empty() ? "true" : "false", problem.c_str());
  } else {
    std::printf("records %lu\nchecksum %lu (0x%lx, the sum of the records' CRC32s)\n",
                static_cast<unsigned long>(out->records), static_cast<unsigned long>(out->checksum),
                static_cast<unsigned long>(out->checksum));
    if (problem.empty()) std::printf("ok: in order%s\n", o.inputs.empty() ? "" : ", and the same records as the input");
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "mr: teravalidate: %s\n", problem.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace mr
