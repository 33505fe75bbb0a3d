#include "jobs/weblog_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "jobs/weblog.h"

namespace mr {
namespace {

constexpr std::string_view kGeneral = "general", kCount = "count", kDayVisitors = "day_visitors";

bool ToInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

const WeblogPanel* FindPanel(std::string_view id) {
  for (const WeblogPanel& p : kWeblogPanels) {
    if (id == p.id) return &p;
  }
  return nullptr;
}

// The general figures by their names in the output.
int64_t* General(WeblogReport* r, std::string_view name) {
  if (name == "valid_requests") return &r->valid_requests;
  if (name == "failed_requests") return &r->failed_requests;
  if (name == "bandwidth") return &r->bandwidth;
  if (name == "unique_visitors") return &r->unique_visitors;
  return nullptr;
}

// "HITS<TAB>VISITORS<TAB>BYTES"
bool ParseRow(std::string_view value, WeblogRow* row) {
  size_t t1 = value.find('\t');
  if (t1 == std::string_view::npos) return false;
  size_t t2 = value.find('\t', t1 + 1);
  if (t2 == std::string_view::npos || value.find('\t', t2 + 1) != std::string_view::npos) return false;
  return ToInt(value.substr(0, t1), &row->hits) && ToInt(value.substr(t1 + 1, t2 - t1 - 1), &row->visitors) &&
         ToInt(value.substr(t2 + 1), &row->bytes);
}

}  // namespace

RequestItem SplitRequestItem(std::string_view item) {
  RequestItem r;
  size_t space = item.find(' ');
  r.method = item.substr(0, space);
  if (space == std::string_view::npos) return r;
  std::string_view rest = item.substr(space + 1);
  // A path may hold spaces (as logged); the protocol is the last word when it looks like one.
  size_t last = rest.rfind(' ');
  if (last != std::string_view::npos && rest.substr(last + 1).starts_with("HTTP/")) {
    r.path = rest.substr(0, last);
    r.protocol = rest.substr(last + 1);
  } else {
    r.path = rest;
  }
  return r;
}

std::vector<std::pair<std::string, std::string>> WeblogOutputLines(uint32_t partition, const WeblogReport& r) {
  const std::string p = fmt::format("{:05d}", partition);
  std::vector<std::pair<std::string, std::string>> lines;
  for (auto& [day, n] : r.day_visitors) lines.emplace_back(fmt::format("{}:{}:{}", kDayVisitors, p, day), std::to_string(n));
  for (auto [name, n] : {std::pair<const char*, int64_t>{"valid_requests", r.valid_requests},
                         {"failed_requests", r.failed_requests},
                         {"bandwidth", r.bandwidth},
                         {"unique_visitors", r.unique_visitors}}) {
    lines.emplace_back(fmt::format("{}:{}:{}", kGeneral, p, name), std::to_string(n));
  }
  for (auto& [panel, n] : r.counts) lines.emplace_back(fmt::format("{}:{}:{}", kCount, p, panel), std::to_string(n));
  for (auto& [panel, rows] : r.panels) {
    for (const WeblogRow& row : rows) {
      lines.emplace_back(fmt::format("{}:{}:{}", panel, p, row.item),
                         fmt::format("{}\t{}\t{}", row.hits, row.visitors, row.bytes));
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

bool MergeWeblogOutputLine(std::string_view line, WeblogReport* r) {
  size_t tab = line.find('\t');
  if (tab == std::string_view::npos) return false;
  std::string_view key = line.substr(0, tab), value = line.substr(tab + 1);
  size_t c1 = key.find(':');
  if (c1 == std::string_view::npos) return false;
  size_t c2 = key.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  std::string_view kind = key.substr(0, c1), item = key.substr(c2 + 1);
  int64_t n = 0;
  if (kind == kGeneral) {
    int64_t* field = General(r, item);
    if (field == nullptr || !ToInt(value, &n)) return false;
    *field += n;
    return true;
  }
  if (kind == kCount) {
    if (!ToInt(value, &n) || FindPanel(item) == nullptr) return false;
    r->counts[std::string(item)] += n;
    return true;
  }
  if (kind == kDayVisitors) {
    if (!ToInt(value, &n)) return false;
    r->day_visitors[std::string(item)] += n;
    return true;
  }
  WeblogRow row;
  row.item = std::string(item);
  if (FindPanel(kind) == nullptr || !ParseRow(value, &row)) return false;
  r->panels[std::string(kind)].push_back(std::move(row));
  return true;
}

void FinishWeblogMerge(WeblogReport* r) {
  for (auto& row : r->panels["visitors"]) {
    auto it = r->day_visitors.find(row.item);
    row.visitors = it == r->day_visitors.end() ? 0 : it->second;
  }
  for (const WeblogPanel& p : kWeblogPanels) {
    auto& rows = r->panels[p.id];
    if (p.by_time) {
      std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.item < b.item; });
    } else {
      std::sort(rows.begin(), rows.end(),
                [](auto& a, auto& b) { return a.hits != b.hits ? a.hits > b.hits : a.item < b.item; });
    }
  }
}

}  // namespace mr
