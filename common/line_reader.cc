#include "common/line_reader.h"

#include <algorithm>

namespace mr {

ByteRange OwnedRange(std::string_view data, uint64_t begin, uint64_t end) {
  const uint64_t size = data.size();
  end = std::min(end, size);
  if (begin >= end) return {end, end};
  uint64_t first = begin;
  if (begin > 0) {
    // The line that contains byte begin-1 belongs to the previous split; ours start after its '\n'.
    const void* nl = std::memchr(data.data() + begin - 1, '\n', size - (begin - 1));
    if (nl == nullptr) return {size, size};
    first = static_cast<uint64_t>(static_cast<const char*>(nl) - data.data()) + 1;
  }
  if (first >= end) return {first, first};
  // The last owned line is the one holding byte end-1; it ends at the first '\n' at or after it.
  const void* nl = std::memchr(data.data() + end - 1, '\n', size - (end - 1));
  uint64_t stop = nl ? static_cast<uint64_t>(static_cast<const char*>(nl) - data.data()) + 1 : size;
  return {first, stop};
}

}  // namespace mr
