// logs (DESIGN §4): web access log analytics over Common/Combined Log Format lines (jobs/log_line.h).
//
// Arguments (each at most once):
//   by=status|path|host|method|hour|day|visitors|referrer|agent|browser|os|file   (default status)
//   metric=requests|bytes (default requests; not with by=visitors)
//   time=utc|log        hour, day and visitors in UTC (default) or in the time as written in the line
//   status=NNN|Nxx      only lines with that status, or that status class ("4xx")
//   method=M            only lines with that method (exact, case-sensitive)
//   path-prefix=P       only lines whose path starts with P (bytes)
// Output: KEY<TAB>N where KEY is the STATUS digits, the request PATH (query string included), the
// HOST, the METHOD, the hour "YYYY-MM-DDTHH" or the day "YYYY-MM-DD", the referring site
// (ReferrerSite of the Combined referrer; lines without one are not counted), the user agent as
// written (Combined lines only), its browser or OS family (jobs/user_agent.h; Combined lines
// only), or the PATH of a static file (IsStaticFile; other lines are not counted); and N the number
// of requests or the sum of BYTES ("-" counts 0) of the lines with that key.
// by=visitors: KEY the day, N the number of unique visitors that day, by GoAccess 1.7's definition:
// distinct (HOST, user agent) pairs over the lines whose status is not 4xx, the agent with its
// spaces removed and "-" when the line has none or it is empty. Exact: the pairs go through the
// shuffle (partitioned by day) and the reducer counts them in sorted order.
// A line that is not a log line is skipped and counted in the user counter `logs.malformed`.
// Combines with the engine's native sum combiner.
#pragma once

#include <string>
#include <string_view>

#include "jobs/job.h"

namespace mr {

inline constexpr const char* kLogsMalformedCounter = "logs.malformed";

Result<std::unique_ptr<Job>> MakeLogs(const JobArgs& args);

// The visitor identity above: `day` + HOST + NUL + agent (normalized: spaces removed, "-" when
// empty), into *out; `agent` is the line's agent or "" when it has none.
void AppendVisitorKey(std::string_view day, std::string_view host, std::string_view agent, std::string* out);

}  // namespace mr
