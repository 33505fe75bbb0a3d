// "Did you mean": the known word closest to a mistyped one (`mr jbos` -> jobs, `--workrs` ->
// --workers). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace mr {

// Edit distance counting insertions, deletions, substitutions and swaps of adjacent characters
// (optimal string alignment), each 1.
size_t EditDistance(const std::string& a, const std::string& b);

// The candidate closest to `word` when it is close enough to be a typo (at most 1 edit for words up
// to 4 characters, 2 up to 8, then 3), or a candidate `word` is a prefix of; "" when none is.
// Ties go to the earlier candidate.
std::string Closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mr
