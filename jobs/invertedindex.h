// invertedindex (DESIGN §4): for every word (as in wordcount: a maximal run of Unicode letters,
// common/words.h), the input files that contain it.
// Arguments: lowercase=true folds case, as in wordcount.
// Output: WORD<TAB>N NAMES, where N is the number of input files containing the word and NAMES
// their base names (the path after the last '/'), sorted bytewise and joined with ','. Two files
// with the same base name in different directories are two files: N counts both and the name is
// listed twice, so N is always the length of the list. TAB, LF and backslash in a name are
// escaped (\t, \n, \\, DESIGN §3); other bytes are written as they are: a base name that contains
// ',' makes the list ambiguous to a reader that splits on ','.
//
// Intermediate values are lists of input paths joined with '\0' (a byte no path contains): a
// mapper emits one path, the combiner merges the lists of one spill into one sorted duplicate-free
// list, and the reducer merges lists again, so either may see any mix of single paths and lists.
// Besides the combiner, each mapper remembers (up to a memory bound) the words it has already
// emitted for its current file and emits a word only once per file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jobs/job.h"

namespace mr {

Result<std::unique_ptr<Job>> MakeInvertedIndex(const JobArgs& args);

namespace invertedindex {

// Splits every value (a '\0'-joined path list) and returns the distinct paths, sorted bytewise.
std::vector<std::string> MergePathLists(ValueIterator& values);
// The intermediate encoding of a sorted path list.
std::string JoinPaths(const std::vector<std::string>& paths);
// The final value, "N name1,name2,..." for a list of distinct paths.
std::string FormatPostings(const std::vector<std::string>& paths);

}  // namespace invertedindex
}  // namespace mr
