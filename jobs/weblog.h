// weblog (DESIGN §4): every GoAccess panel of a web access log in one pass, with mergeable
// aggregates, for `mr report` (client/report.h). Lines as in jobs/log_line.h; the referrer and agent
// of Combined lines as in ParseCombinedTail.
//
// Arguments: time=log|utc (default log: days and hours as written in the line, as GoAccess shows
// them), top=N (1..100000, default 100: entries kept per top-N panel).
//
// Definitions (those of GoAccess 1.7 with its default settings, so totals can be compared):
//  - valid requests: log lines; failed: the other lines (also counted in `weblog.malformed`);
//    total = valid + failed; bandwidth: the sum of BYTES.
//  - a visitor: (day, HOST, agent without spaces, "-" when missing or empty) -- AppendVisitorKey;
//    lines with a 4xx status count for hits and bytes but not for visitors (GoAccess's default).
//    unique_visitors: distinct visitors, exact: they go through the shuffle as 64-bit hashes
//    (exact up to hash collisions: about n^2/2^65, 3e-4 for 10^8 visitors) and reducers count them.
//  - requests, static_requests, not_found: a line is in not_found if its status is 404, else in
//    static_requests if IsStaticFile(PATH), else in requests; the entry is "METHOD PATH[ PROTOCOL]".
//    unique_files, unique_static_files, unique_not_found: the number of distinct entries (exact).
//  - hosts (HOST), os and browsers (jobs/user_agent.h; "-" agent -> Unknown), visit_time (the
//    hour "HH"), referring_sites (ReferrerSite; lines without one are not in the panel),
//    status_codes (the three digits), visitors (per day "YYYY-MM-DD") and hourly
//    ("YYYY-MM-DDTHH").
//  - per entry: hits, bytes (exact) and visitors: distinct visitors among the entry's non-4xx
//    lines, by DistinctSketch (jobs/hyperloglog.h): exact up to 64 visitors, beyond that a
//    HyperLogLog with a standard error of 1.6%. (GoAccess instead credits each new visitor to
//    the entries of its first request only.) The visitors of a day are exact (as the total): the
//    job writes 0 in the visitors panel's rows and the day_visitors lines carry the count.
//
// How: each map thread aggregates in memory (hits, bytes, sketch per entry; a set of visitor
// hashes) and emits when its tables pass 64 MiB and at the end, so memory is bounded whatever
// the input; a combiner merges spills; a reducer merges an entry's partial aggregates, keeps the
// top N entries of the large panels (requests, static_requests, not_found, hosts,
// referring_sites) and every entry of the others, counts distinct entries and visitors, and at
// the end writes its summary. Every entry is in exactly one partition, so summing counts and
// merging top lists over the part files is exact.
//
// Output, per reducer that received anything (P = its partition, 5 digits), keys sorted:
//   general:P:NAME<TAB>N         NAME: valid_requests failed_requests bandwidth unique_visitors
//   count:P:PANEL<TAB>N          distinct entries of PANEL in this partition
//   PANEL:P:ENTRY<TAB>HITS<TAB>VISITORS<TAB>BYTES
//   day_visitors:P:YYYY-MM-DD<TAB>N  exact visitors of a day counted in this partition
#pragma once

#include "jobs/job.h"

namespace mr {

inline constexpr const char* kWeblogMalformedCounter = "weblog.malformed";

// The panels, in the order `mr report` shows them (client/report.h): the one list of them.
struct WeblogPanel {
  char code;          // the first byte of the job's intermediate keys for the panel
  const char* id;     // GoAccess's JSON name, and PANEL in the output
  const char* title;  // as GoAccess titles it
  bool top;           // the reducer keeps the top N entries (else all of them)
  bool by_time;       // rows are a time series: shown in time order, not by hits
};
inline constexpr WeblogPanel kWeblogPanels[] = {
    {'D', "visitors", "Unique visitors per day", false, true},
    {'R', "requests", "Requested files (URLs)", true, false},
    {'S', "static_requests", "Static requests", true, false},
    {'N', "not_found", "Not found URLs (404s)", true, false},
    {'H', "hosts", "Visitor hostnames and IPs", true, false},
    {'O', "os", "Operating systems", false, false},
    {'B', "browsers", "Browsers", false, false},
    {'T', "visit_time", "Time distribution (hour of day)", false, true},
    {'F', "referring_sites", "Referring sites", true, false},
    {'C', "status_codes", "HTTP status codes", false, false},
    {'Y', "hourly", "Traffic per hour", false, true},
};

Result<std::unique_ptr<Job>> MakeWeblog(const JobArgs& args);

}  // namespace mr
