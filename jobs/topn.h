// topn (DESIGN §4): the N lines with the largest numbers among `key<TAB>number` lines, such as a
// previous job's output.
// Arguments: n=N (1..10000000, default 10).
// Input: a line is KEY<TAB>NUMBER split at its LAST tab (so a key may hold tabs), NUMBER a decimal
// integer with an optional leading '-' that fits in 64 bits. Other lines (no tab, empty or
// non-numeric number, spaces, overflow) are skipped and counted in the user counter `topn.malformed`.
// Output: KEY<TAB>NUMBER lines (NUMBER in canonical decimal form), largest number first, equal
// numbers by key in bytewise ascending order; fewer than N lines when the input has fewer. Equal
// lines in the input are distinct lines and can both be output.
//
// How: each mapper keeps its own top N in a bounded heap and emits it from Finish(), all under one
// intermediate key, so a single reduce call sees every candidate and picks the global top N. The
// job's partitioner sends that key to reducer 0: all of the output is in part-r-00000 and, with
// --reducers R > 1, the other part files are empty.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.h"

namespace mr {

inline constexpr const char* kTopNMalformedCounter = "topn.malformed";

Result<std::unique_ptr<Job>> MakeTopN(const JobArgs& args);

namespace topn {

struct Entry {
  int64_t number = 0;
  std::string key;
};

// True when (number_a, key_a) ranks before (number_b, key_b): a larger number, or the same number
// and a bytewise smaller key.
inline bool RanksBefore(int64_t number_a, std::string_view key_a, int64_t number_b, std::string_view key_b) {
  return number_a != number_b ? number_a > number_b : key_a < key_b;
}

// Splits KEY<TAB>NUMBER at the last tab; false when the line is not of that form.
bool ParseLine(std::string_view line, std::string_view* key, int64_t* number);

// The best `n` entries offered so far. Not thread-safe.
class TopN {
 public:
  explicit TopN(size_t n) : n_(n) {}
  void Offer(int64_t number, std::string_view key);
  size_t size() const { return heap_.size(); }
  // The entries, best first; leaves this empty.
  std::vector<Entry> TakeSorted();

 private:
  const size_t n_;
  std::vector<Entry> heap_;  // a heap whose top is the entry that ranks last
};

}  // namespace topn
}  // namespace mr
