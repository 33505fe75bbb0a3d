// The split line reader's invariants on arbitrary text and split points: cutting the text into
// splits anywhere hands out every line exactly once, in order, identical to a naive line split;
// no line holds '\n'; OwnedRange stays inside the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/line_reader.h"

using namespace mr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the split size; the rest is the text.
  size_t split = 1 + (data[0] | (data[1] << 8)) % 300;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<std::pair<uint64_t, std::string_view>> naive;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::string_view l = text.substr(pos, stop - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    naive.emplace_back(pos, l);
    pos = stop + 1;
  }

  std::vector<std::pair<uint64_t, std::string_view>> got;
  for (uint64_t b = 0; b < text.size(); b += split) {
    uint64_t e = std::min<uint64_t>(b + split, text.size());
    ByteRange r = OwnedRange(text, b, e);
    if (!r.empty() && (r.begin < b || r.end > text.size() || r.begin >= e)) std::abort();
    ForEachOwnedLine(text, b, e, [&](uint64_t off, std::string_view line) {
      if (off < b || off >= e) std::abort();  // a split owns the lines that start inside it
      if (line.find('\n') != std::string_view::npos) std::abort();
      got.emplace_back(off, line);
    });
  }
  if (got != naive) std::abort();
  // Ranges past the end or inverted own nothing.
  if (!OwnedRange(text, text.size(), text.size() + 10).empty()) std::abort();
  if (!OwnedRange(text, 5, 2).empty()) std::abort();
  return 0;
}
