// The weblog job's output format (jobs/weblog.h, "Output"): written by its reducers and read back
// by `mr report` (client/report.h). The one place that knows those lines.
// Pure functions over values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mr {

struct WeblogRow {
  std::string item;
  int64_t hits = 0;
  int64_t visitors = 0;
  int64_t bytes = 0;
};

// What one reducer found in its partition, or every partition's part merged.
struct WeblogReport {
  int64_t valid_requests = 0;
  int64_t failed_requests = 0;
  int64_t bandwidth = 0;
  int64_t unique_visitors = 0;
  std::map<std::string, int64_t> counts;                 // panel -> distinct entries
  std::map<std::string, std::vector<WeblogRow>> panels;  // panel -> rows
  std::map<std::string, int64_t> day_visitors;           // YYYY-MM-DD -> exact visitors
};

// An entry of the requests, static_requests and not_found panels: "METHOD PATH[ PROTOCOL]".
struct RequestItem {
  std::string_view method, path, protocol;  // views into the item; protocol may be empty
};
RequestItem SplitRequestItem(std::string_view item);

// The lines of partition `partition`'s part file, (key, value), sorted by key.
std::vector<std::pair<std::string, std::string>> WeblogOutputLines(uint32_t partition, const WeblogReport& r);

// Adds one line of a part file to *merged: counts are summed, rows appended. False if the line is
// not weblog output (then *merged is unchanged).
bool MergeWeblogOutputLine(std::string_view line, WeblogReport* merged);

// After the last line: the exact visitors of each day replace the sketch's estimate in the
// visitors panel, and each panel's rows are put in display order (time panels by time, the
// others by hits, then item).
void FinishWeblogMerge(WeblogReport* merged);

}  // namespace mr
