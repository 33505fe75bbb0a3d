// wc_baseline: the plain sequential word count that mr's `wordcount` job is checked and timed
// against (see bench/wordcount.sh and bench/RESULTS.md).
//
//   wc_baseline FILE... > out
//
// Reads each file with read() in big chunks, cut at the last newline so that only whole lines are
// tokenized (a word never spans a '\n', which is a separator), counts the words of mr::ForEachWord
// in a std::unordered_map<std::string, uint64_t>, and prints `word<TAB>count` lines sorted
// bytewise. Deliberately simple and single-threaded: no tricks.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/words.h"

namespace {

constexpr size_t kChunk = 16 << 20;  // Bytes per read().

using Counts = std::unordered_map<std::string, uint64_t>;

void CountText(std::string_view text, Counts* counts) {
  mr::ForEachWord(text, [&](std::string_view w) { ++(*counts)[std::string(w)]; });
}

// Counts the words of one file; false (after printing why) on an I/O error.
bool CountFile(const char* path, Counts* counts) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "wc_baseline: %s: %s\n", path, std::strerror(errno));
    return false;
  }
  std::vector<char> buf(kChunk);
  size_t have = 0;  // Bytes in buf: the unfinished last line of the previous reads.
  for (;;) {
    if (have == buf.size()) buf.resize(buf.size() * 2);  // A line longer than the buffer.
    const ssize_t r = read(fd, buf.data() + have, buf.size() - have);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "wc_baseline: %s: %s\n", path, std::strerror(errno));
      close(fd);
      return false;
    }
    if (r == 0) break;
    const size_t end = have + static_cast<size_t>(r);
    const void* nl = memrchr(buf.data() + have, '\n', static_cast<size_t>(r));
    if (nl == nullptr) {  // No complete line yet.
      have = end;
      continue;
    }
    const size_t cut = static_cast<const char*>(nl) - buf.data() + 1;
    CountText(std::string_view(buf.data(), cut), counts);
    std::memmove(buf.data(), buf.data() + cut, end - cut);
    have = end - cut;
  }
  CountText(std::string_view(buf.data(), have), counts);  // A last line without '\n'.
  close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: wc_baseline FILE... > out\n");
    return 2;
  }
  Counts counts;
  for (int i = 1; i < argc; ++i) {
    if (!CountFile(argv[i], &counts)) return 1;
  }

  std::vector<std::pair<std::string_view, uint64_t>> sorted;
  sorted.reserve(counts.size());
  for (const auto& [word, n] : counts) sorted.emplace_back(word, n);
  std::sort(sorted.begin(), sorted.end());  // string_view compares bytewise (char_traits<char>).

  std::string out;
  out.reserve(1 << 20);
  for (const auto& [word, n] : sorted) {
    out.append(word);
    out.push_back('\t');
    out.append(std::to_string(n));
    out.push_back('\n');
    if (out.size() >= (1 << 20)) {
      if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return 1;
      out.clear();
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "wc_baseline: write error\n");
    return 1;
  }
  return 0;
}
