// Line ownership across splits (DESIGN §3). A split [begin, end) of a file owns exactly the lines
// that *start* inside it: a line starts at offset 0 and after every '\n'. The first partial line
// belongs to the previous split; the last owned line is read past `end`. So every line is read by
// exactly one split, whatever the split size. A final line without '\n' is a line; an empty file
// has none. Lines are handed out without their '\n' and without one trailing '\r' (CRLF files).
// Pure functions over caller-owned memory; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mr {

struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;  // exclusive
  bool empty() const { return begin >= end; }
};

// The bytes holding exactly the lines owned by [begin, end) of `data`: from the start of the first
// owned line to the end (past its '\n') of the last. Empty when the split owns no line.
ByteRange OwnedRange(std::string_view data, uint64_t begin, uint64_t end);

// Calls fn(uint64_t offset, std::string_view line) for every line owned by [begin, end).
template <class Fn>
void ForEachOwnedLine(std::string_view data, uint64_t begin, uint64_t end, Fn&& fn) {
  ByteRange r = OwnedRange(data, begin, end);
  const char* base = data.data();
  uint64_t pos = r.begin;
  while (pos < r.end) {
    const void* nl = std::memchr(base + pos, '\n', r.end - pos);
    uint64_t stop = nl ? static_cast<uint64_t>(static_cast<const char*>(nl) - base) : r.end;
    uint64_t len = stop - pos;
    if (len > 0 && base[pos + len - 1] == '\r') len--;
    fn(pos, std::string_view(base + pos, len));
    pos = stop + 1;
  }
}

}  // namespace mr
