#include "client/output.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

#include "client/commands.h"
#include "common/output_layout.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

constexpr size_t kPreviewWidth = 160;       // bytes of a line shown
constexpr size_t kPreviewScan = 64 << 10;   // bytes read looking for the end of one line

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

}  // namespace

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
