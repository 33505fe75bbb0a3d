// grep (DESIGN §4): the input lines that contain a match of a regular expression.
// Arguments: pattern=REGEX (required and non-empty; RE2 syntax, UTF-8). A line is output when the
// pattern matches anywhere in it, as with grep -E; ^...$ matches whole lines, (?i) ignores case.
// Output: FILE:OFFSET<TAB>LINE, where FILE is the input file's path as the engine names it (absolute;
// TAB, LF and backslash escaped as \t, \n and \\)
// and OFFSET the line's byte offset in the file, zero-padded to 12 digits so that keys sort by file,
// then by position. LINE is the line without its '\n' (and without one trailing '\r').
// The pattern is compiled once per job object and shared by all map threads (RE2 is thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jobs/job.h"

namespace mr {

Result<std::unique_ptr<Job>> MakeGrep(const JobArgs& args);

// Sets *key to "FILE:OFFSET" (FILE escaped) with OFFSET zero-padded to 12 digits (more when it needs more).
void GrepKey(std::string_view file, uint64_t offset, std::string* key);

}  // namespace mr
