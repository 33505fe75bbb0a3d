#include "common/output_layout.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <tuple>

namespace mr {

namespace {
char Letter(PartKind kind) { return kind == PartKind::kMap ? 'm' : 'r'; }
}  // namespace

std::string PartFileName(uint32_t task, PartKind kind) { return fmt::format("part-{}-{:05}", Letter(kind), task); }

std::string SkippedFileName(uint32_t map) { return fmt::format("{}/map-{:05}", kSkippedDirName, map); }

std::string TemporaryDir(const std::string& output) { return output + "/" + kTemporaryDirName; }

std::string AttemptDirName(uint64_t job, uint32_t task, uint32_t attempt, PartKind kind) {
  return fmt::format("job-{}-{}-{:05}-a{}", job, Letter(kind), task, attempt);
}

std::string AttemptOutputFile(const std::string& output, uint64_t job, uint32_t task, uint32_t attempt,
                              PartKind kind) {
  return fmt::format("{}/{}/{}", TemporaryDir(output), AttemptDirName(job, task, attempt, kind),
                     PartFileName(task, kind));
}

int64_t PartitionOfFile(const std::string& name, PartKind* kind) {
  if (name.size() < 7 || !name.starts_with("part-") || (name[5] != 'r' && name[5] != 'm') || name[6] != '-') {
    return -1;
  }
  const PartKind k = name[5] == 'm' ? PartKind::kMap : PartKind::kReduce;
  std::string_view digits = std::string_view(name).substr(7);
  uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || PartFileName(n, k) != name) return -1;
  if (kind != nullptr) *kind = k;
  return n;
}

std::string PipelineStepOutput(const std::string& output, int step) {
  const std::filesystem::path out(output);
  return (out.parent_path() / fmt::format(".{}.step-{}", out.filename().string(), step)).string();
}

Result<std::vector<std::string>> ListOutputParts(const std::string& dir, bool partial) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(fmt::format("{} is not a directory{}", dir,
                                        fs::exists(dir, ec) ? "" : " (it does not exist here)"));
  }
  if (!partial && !fs::exists(fs::path(dir) / kSuccessFileName, ec)) {
    return Status::Unavailable(fmt::format(
        "{} has no {}: the job writing it has not finished, or failed (--partial reads the parts there are)", dir,
        kSuccessFileName));
  }
  std::vector<std::tuple<bool, int64_t, std::string>> parts;  // (a reduce's, task, path)
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    PartKind kind;
    int64_t n = PartitionOfFile(it->path().filename().string(), &kind);
    if (n >= 0 && it->is_regular_file(ec)) parts.emplace_back(kind == PartKind::kReduce, n, it->path().string());
  }
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot list {}", dir));
  std::sort(parts.begin(), parts.end());
  std::vector<std::string> files;
  for (auto& [reduce, n, path] : parts) files.push_back(path);
  return files;
}

Result<std::vector<std::string>> ReadOutputHead(const std::string& dir, size_t max_lines, size_t max_bytes,
                                                size_t max_line) {
  auto parts = ListOutputParts(dir, /*partial=*/true);
  if (!parts.ok()) return parts.status();
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (const std::string& part : *parts) {
    std::ifstream in(part, std::ios::binary);
    std::string line;
    while (lines.size() < max_lines && bytes < max_bytes && std::getline(in, line)) {
      if (line.size() > max_line) line = line.substr(0, max_line) + "...";
      bytes += line.size();
      lines.push_back(std::move(line));
    }
    if (lines.size() >= max_lines || bytes >= max_bytes) break;
  }
  return lines;
}

}  // namespace mr
