#include "jobs/job_args.h"

#include <fmt/format.h>

#include <charconv>

namespace mr {

Result<int64_t> GetIntArg(const JobArgs& args, const std::string& key, int64_t default_value, int64_t min,
                          int64_t max) {
  auto it = args.find(key);
  if (it == args.end()) return default_value;
  const std::string& s = it->second;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    return Status::InvalidArgument(
        fmt::format("--arg {}={}: want an integer from {} to {}", key, s, min, max));
  }
  return v;
}

Result<size_t> GetChoiceArg(const JobArgs& args, const std::string& key,
                            const std::vector<std::string>& choices, size_t default_index) {
  auto it = args.find(key);
  if (it == args.end()) return default_index;
  for (size_t i = 0; i < choices.size(); i++) {
    if (choices[i] == it->second) return i;
  }
  return Status::InvalidArgument(
      fmt::format("--arg {}={}: want one of {}", key, it->second, fmt::join(choices, ", ")));
}

}  // namespace mr

namespace mr {
namespace {

const std::vector<JobInfo>& JobInfos() {
  static const std::vector<JobInfo> infos = {
      {"grep", "the input lines that contain a match of a regular expression (as grep -E)",
       "FILE:OFFSET<TAB>LINE, sorted by file then position",
       {{"pattern", "RE2 regular expression matched anywhere in a line; ^...$ for whole lines, (?i) ignores case",
         "", true}}},
      {"invertedindex", "for every word, the input files that contain it",
       "WORD<TAB>N NAMES (N files, their base names joined with ',')",
       {{"lowercase", "fold case before indexing: true or false", "false"}}},
      {"logs", "web access log analytics over Common/Combined log lines: requests or bytes by one key",
       "KEY<TAB>N",
       {{"by", "the key: status, path, host, method, hour, day, visitors, referrer, agent, browser, os or file",
         "status"},
        {"metric", "requests or bytes (not with by=visitors)", "requests"},
        {"time", "hours and days in utc, or in the log's own time zone (log)", "utc"},
        {"status", "only lines with this status (404) or status class (4xx)", ""},
        {"method", "only lines with this method (exact, e.g. GET)", ""},
        {"path-prefix", "only lines whose path starts with this prefix", ""},
        {"format", "the log layout: common, combined, vcombined, or a GoAccess-style %-format (default: Common and Combined lines as they come)", ""}}},
      {"teragen", "TeraSort input in the gensort layout (run it with `mr teragen ROWS DIR`)",
       "100-byte rows",
       {{"ascii", "printable keys and CRLF rows (gensort -a): true or false", "false"}},
       /*map_only=*/true},
      {"terasort", "Hadoop TeraSort: sorts 100-byte records by their first 10 bytes across all parts",
       "the records, unchanged; part-r-00000, part-r-00001, ... concatenated are sorted",
       {}},
      {"topn", "the N lines with the largest numbers among KEY<TAB>NUMBER lines (a previous job's output)",
       "KEY<TAB>NUMBER, largest first, all in part-r-00000",
       {{"n", "how many lines to keep, 1 to 10000000", "10"}}},
      {"weblog", "every GoAccess panel of a web access log in one pass; render it with `mr report`",
       "panel rows for `mr report`",
       {{"time", "days and hours as written in the log (log) or in utc", "log"},
        {"top", "entries kept per top-N panel, 1 to 100000", "100"},
        {"format", "the log layout: common, combined, vcombined, or a GoAccess-style %-format (default: Common and Combined lines as they come)", ""}}},
      {"wordcount", "counts words: maximal runs of Unicode letters in UTF-8 text", "WORD<TAB>COUNT",
       {{"lowercase", "fold case before counting: true or false", "false"}}},
  };
  return infos;
}

}  // namespace

const JobInfo* DescribeJob(const std::string& name) {
  for (const JobInfo& info : JobInfos()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace mr
