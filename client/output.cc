#include "client/output.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "client/commands.h"
#include "common/output_layout.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

constexpr char kPartPrefix[] = "part-r-";
constexpr size_t kPreviewWidth = 160;       // bytes of a line shown
constexpr size_t kPreviewScan = 64 << 10;   // bytes read looking for the end of one line

// The partition of a part file's name ("part-r-00007" -> 7); -1 when it is not one.
int64_t PartitionOf(const std::string& name) {
  if (!name.starts_with(kPartPrefix)) return -1;
  std::string_view digits = std::string_view(name).substr(sizeof(kPartPrefix) - 1);
  uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || PartFileName(n) != name) return -1;
  return n;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

}  // namespace

Result<std::vector<std::string>> ListOutputParts(const std::string& dir, bool partial) {
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
  std::vector<std::pair<int64_t, std::string>> parts;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    int64_t n = PartitionOf(it->path().filename().string());
    if (n >= 0 && it->is_regular_file(ec)) parts.emplace_back(n, it->path().string());
  }
  if (ec) return Status::IoError(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(parts.begin(), parts.end());
  std::vector<std::string> files;
  for (auto& [n, path] : parts) files.push_back(path);
  return files;
}

int CmdCat(const CatOptions& o) {
  if (o.head < -1) return std::fprintf(stderr, "mr cat: --head must be 0 or more\n"), kExitUsage;
  auto parts = ListOutputParts(o.output, o.partial);
  if (!parts.ok()) return std::fprintf(stderr, "mr cat: %s\n", parts.status().message().c_str()), kExitFailed;
  int64_t left = o.head;
  std::vector<char> buf(1 << 16);
  for (const std::string& path : *parts) {
    if (left == 0) break;
    File f(std::fopen(path.c_str(), "rb"));
    if (!f) return std::fprintf(stderr, "mr cat: cannot read %s\n", path.c_str()), kExitFailed;
    size_t n;
    while (left != 0 && (n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
      size_t take = n;
      if (left > 0) {
        for (size_t i = 0; i < n; i++) {
          if (buf[i] == '\n' && --left == 0) {
            take = i + 1;
            break;
          }
        }
      }
      if (std::fwrite(buf.data(), 1, take, stdout) != take) return kExitFailed;  // e.g. a closed pipe
    }
    if (std::ferror(f.get())) return std::fprintf(stderr, "mr cat: cannot read %s\n", path.c_str()), kExitFailed;
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
}

void PrintOutputPreview(const std::string& dir, int lines, FILE* out) {
  if (lines <= 0) return;
  auto parts = ListOutputParts(dir, false);
  if (!parts.ok()) {
    std::fprintf(out, "(output not shown: %s)\n", parts.status().message().c_str());
    return;
  }
  std::vector<std::string> shown;
  bool more = false;
  for (size_t p = 0; p < parts->size() && !more; p++) {
    File f(std::fopen((*parts)[p].c_str(), "rb"));
    if (!f) continue;
    std::string line;
    size_t scanned = 0;
    for (int c; (c = std::fgetc(f.get())) != EOF;) {
      if (static_cast<int>(shown.size()) == lines) {
        more = true;
        break;
      }
      bool end = c == '\n' || ++scanned >= kPreviewScan;
      if (!end) {
        if (line.size() < kPreviewWidth) line += (c < 0x20 && c != '\t') || c == 0x7f ? '.' : static_cast<char>(c);
        else if (line.size() == kPreviewWidth) line += "...";
        continue;
      }
      shown.push_back(line);
      line.clear();
      scanned = 0;
    }
    if (!line.empty() && !more) shown.push_back(line);
  }
  if (shown.empty()) {
    std::fprintf(out, "the output is empty\n");
    return;
  }
  if (more) std::fprintf(out, "first %zu lines (all: mr cat %s):\n", shown.size(), dir.c_str());
  else std::fprintf(out, "all %zu line%s of the output:\n", shown.size(), shown.size() == 1 ? "" : "s");
  for (auto& l : shown) std::fprintf(out, "  %s\n", l.c_str());
}

}  // namespace mr
