// `mr report OUT [--json | --html FILE] [--top N]` (DESIGN §2): renders the output of a `weblog`
// job (format in jobs/weblog.h) as a terminal summary, as GoAccess-compatible JSON (its `general`
// object uses GoAccess's field names), or as one self-contained HTML page (inline CSS and SVG
// charts, no script and no network).
//
// ReadWeblogReport merges the part files (jobs/weblog_output.h): counts are summed, and the top
// entries of each panel merged (every entry lives in exactly one partition, so the merge is exact). Pure functions over
// the files they are given; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "jobs/weblog_output.h"

namespace mr {

// Reads OUT (a finished weblog output: _SUCCESS present). InvalidArgument/NotFound with a
// one-line message naming the file and line for anything else.
Result<WeblogReport> ReadWeblogReport(const std::string& dir);

std::string RenderTerminal(const WeblogReport& r, size_t top);
nlohmann::json RenderJson(const WeblogReport& r, size_t top);
std::string RenderHtml(const WeblogReport& r, size_t top);

struct ReportOptions {
  std::string output;   // the weblog job's output directory
  bool json = false;
  std::string html;     // write the HTML page here when non-empty
  size_t top = 10;      // rows per panel (time panels are shown whole)
};
int CmdReport(const ReportOptions& o);

}  // namespace mr
