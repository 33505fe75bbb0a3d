#include "client/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/commands.h"
#include "common/output_layout.h"
#include "common/units.h"
#include "jobs/weblog.h"
#include "jobs/weblog_output.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool ToInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string Percent(int64_t part, int64_t whole) {
  return whole > 0 ? fmt::format("{:.2f}%", 100.0 * part / whole) : "0.00%";
}

double PercentValue(int64_t part, int64_t whole) {
  return whole > 0 ? std::round(10000.0 * part / whole) / 100 : 0;
}

// "2024-02-28" -> "28/Feb/2024" (GoAccess's start_date/end_date form).
std::string ClfDate(std::string_view day) {
  int64_t m = 0;
  if (day.size() < 10 || !ToInt(day.substr(5, 2), &m) || m < 1 || m > 12) return std::string(day);
  return fmt::format("{}/{}/{}", day.substr(8, 2), kMonths[m - 1], day.substr(0, 4));
}

std::vector<WeblogRow> Shown(const WeblogReport& r, const WeblogPanel& p, size_t top) {
  auto it = r.panels.find(p.id);
  if (it == r.panels.end()) return {};
  std::vector<WeblogRow> rows = it->second;
  if (!p.by_time && rows.size() > top) rows.resize(top);
  return rows;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A bar chart of hits (and visitors) per row, as inline SVG.
std::string SvgChart(const std::vector<WeblogRow>& rows, const std::string& label) {
  if (rows.empty()) return "";
  const int width = 960, height = 240, left = 60, bottom = 40, top = 16;
  int64_t max = 1;
  for (auto& r : rows) max = std::max(max, r.hits);
  const double slot = static_cast<double>(width - left - 10) / rows.size();
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" class=\"chart\">", width, height,
      HtmlEscape(label));
  for (int i = 0; i <= 4; i++) {
    double y = top + (height - top - bottom) * (1 - i / 4.0);
    svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" class=\"grid\"/>", left, y, width - 10, y);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"end\">{}</text>", left - 6, y + 4,
                       static_cast<int64_t>(std::llround(max * i / 4.0)));
  }
  size_t longest = 1;
  for (auto& r : rows) longest = std::max(longest, r.item.size());
  const double label_px = 6.5 * longest + 14;  // 11px text
  const size_t label_every = std::max<size_t>(1, static_cast<size_t>(std::ceil(label_px / slot)));
  for (size_t i = 0; i < rows.size(); i++) {
    const auto& r = rows[i];
    double x = left + slot * i;
    double h = (height - top - bottom) * static_cast<double>(r.hits) / max;
    double hv = (height - top - bottom) * static_cast<double>(r.visitors) / max;
    double w = std::max(1.0, slot * 0.42);
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"hits\">"
                       "<title>{}: {} hits</title></rect>",
                       x + slot * 0.08, height - bottom - h, w, h, HtmlEscape(r.item), r.hits);
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"visitors\">"
                       "<title>{}: {} visitors</title></rect>",
                       x + slot * 0.08 + w, height - bottom - hv, w, hv, HtmlEscape(r.item), r.visitors);
    if (i % label_every == 0) {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
                         x + slot / 2, height - bottom + 16, HtmlEscape(r.item));
    }
  }
  svg += "</svg>";
  return svg;
}

}  // namespace

Result<WeblogReport> ReadWeblogReport(const std::string& dir) {
  auto listed = ListOutputParts(dir, /*partial=*/false);
  if (!listed.ok()) {
    if (listed.status().code() == Status::Code::kUnavailable) {
      return Status::InvalidArgument(fmt::format("{} is not the output of a finished job (no _SUCCESS)", dir));
    }
    return listed.status();
  }
  std::vector<fs::path> parts(listed->begin(), listed->end());
  if (parts.empty()) return Status::InvalidArgument(fmt::format("{} has no part files", dir));
  WeblogReport r;
  for (const fs::path& part : parts) {
    std::ifstream in(part, std::ios::binary);
    if (!in) return Status::IoError(fmt::format("cannot read {}", part.string()));
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      n++;
      if (!MergeWeblogOutputLine(line, &r)) {
        return Status::InvalidArgument(
            fmt::format("{} line {} is not weblog output (was OUT written by --job weblog?)", part.string(), n));
      }
    }
  }
  FinishWeblogMerge(&r);
  return r;
}

std::string RenderTerminal(const WeblogReport& r, size_t top) {
  std::string out;
  const int64_t total = r.valid_requests + r.failed_requests;
  auto first_last = [&]() -> std::pair<std::string, std::string> {
    auto it = r.panels.find("visitors");
    if (it == r.panels.end() || it->second.empty()) return {"-", "-"};
    return {ClfDate(it->second.front().item), ClfDate(it->second.back().item)};
  };
  auto [start, end] = first_last();
  auto count = [&](const char* panel) {
    auto it = r.counts.find(panel);
    return it == r.counts.end() ? int64_t{0} : it->second;
  };
  out += fmt::format("Overall analyzed requests ({} - {})\n\n", start, end);
  out += fmt::format("  {:<22}{:>14}    {:<22}{:>14}\n", "Total requests", total, "Unique visitors", r.unique_visitors);
  out += fmt::format("  {:<22}{:>14}    {:<22}{:>14}\n", "Valid requests", r.valid_requests, "Requested files",
                     count("requests"));
  out += fmt::format("  {:<22}{:>14}    {:<22}{:>14}\n", "Failed requests", r.failed_requests, "Static files",
                     count("static_requests"));
  out += fmt::format("  {:<22}{:>14}    {:<22}{:>14}\n", "Bandwidth", FormatBytes(r.bandwidth), "Not found (404)",
                     count("not_found"));
  out += fmt::format("  {:<22}{:>14}\n", "Referring sites", count("referring_sites"));
  for (const WeblogPanel& p : kWeblogPanels) {
    std::vector<WeblogRow> rows = Shown(r, p, top);
    int64_t entries = count(p.id);
    out += fmt::format("\n{} — {}{}\n", p.title, Counted(entries, "entry", "entries"),
                       !p.by_time && entries > static_cast<int64_t>(rows.size()) ? fmt::format(", top {}", rows.size()) : "");
    if (rows.empty()) continue;
    int64_t max = 1;
    for (auto& row : rows) max = std::max(max, row.hits);
    out += fmt::format("  {:>10} {:>7}  {:>9} {:>7}  {:>10}  {:<20}  {}\n", "hits", "h%", "visitors", "v%", "bandwidth",
                       "", "data");
    for (auto& row : rows) {
      int bar = static_cast<int>(20 * row.hits / max);
      std::string bars;
      for (int i = 0; i < bar; i++) bars += "\u2588";
      bars += std::string(20 - bar, ' ');
      out += fmt::format("  {:>10} {:>7}  {:>9} {:>7}  {:>10}  {}  {}\n", row.hits, Percent(row.hits, r.valid_requests),
                         row.visitors, Percent(row.visitors, r.unique_visitors), FormatBytes(row.bytes), bars, row.item);
    }
  }
  return out;
}

json RenderJson(const WeblogReport& r, size_t top) {
  json j;
  auto count = [&](const char* panel) {
    auto it = r.counts.find(panel);
    return it == r.counts.end() ? int64_t{0} : it->second;
  };
  json general;
  auto days = r.panels.find("visitors");
  bool has_days = days != r.panels.end() && !days->second.empty();
  general["start_date"] = has_days ? ClfDate(days->second.front().item) : "";
  general["end_date"] = has_days ? ClfDate(days->second.back().item) : "";
  general["total_requests"] = r.valid_requests + r.failed_requests;
  general["valid_requests"] = r.valid_requests;
  general["failed_requests"] = r.failed_requests;
  general["unique_visitors"] = r.unique_visitors;
  general["unique_files"] = count("requests");
  general["unique_static_files"] = count("static_requests");
  general["unique_not_found"] = count("not_found");
  general["unique_referring_sites"] = count("referring_sites");
  general["bandwidth"] = r.bandwidth;
  j["general"] = general;
  for (const WeblogPanel& p : kWeblogPanels) {
    std::vector<WeblogRow> rows = Shown(r, p, top);
    json panel;
    panel["metadata"] = {{"data", {{"total", {{"value", count(p.id)}}}}}};
    json data = json::array();
    const bool request = std::string_view(p.id) == "requests" || std::string_view(p.id) == "static_requests" ||
                         std::string_view(p.id) == "not_found";
    for (auto& row : rows) {
      json e;
      e["hits"] = {{"count", row.hits}, {"percent", PercentValue(row.hits, r.valid_requests)}};
      e["visitors"] = {{"count", row.visitors}, {"percent", PercentValue(row.visitors, r.unique_visitors)}};
      e["bytes"] = {{"count", row.bytes}, {"percent", PercentValue(row.bytes, r.bandwidth)}};
      if (request) {
        RequestItem item = SplitRequestItem(row.item);
        e["method"] = std::string(item.method);
        e["data"] = std::string(item.path);
        e["protocol"] = std::string(item.protocol);
      } else {
        e["data"] = row.item;
      }
      data.push_back(std::move(e));
    }
    panel["data"] = std::move(data);
    j[p.id] = std::move(panel);
  }
  return j;
}

std::string RenderHtml(const WeblogReport& r, size_t top) {
  auto count = [&](const char* panel) {
    auto it = r.counts.find(panel);
    return it == r.counts.end() ? int64_t{0} : it->second;
  };
  auto days = r.panels.find("visitors");
  bool has_days = days != r.panels.end() && !days->second.empty();
  std::string period = has_days ? ClfDate(days->second.front().item) + " – " + ClfDate(days->second.back().item) : "";
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>Web log report</title><style>\n"
       "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1d2630}\n"
       "header{background:#1d2630;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}"
       "header p{margin:4px 0 0;color:#aeb9c5}\n"
       "main{max-width:1100px;margin:0 auto;padding:20px 24px}\n"
       ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}\n"
       ".card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0002}"
       ".card .v{font-size:24px;font-weight:600}.card .k{font-size:12px;color:#5b6b7b;text-transform:uppercase;"
       "letter-spacing:.04em}\n"
       "section{background:#fff;border-radius:8px;margin:18px 0;padding:14px 18px;box-shadow:0 1px 2px #0002}\n"
       "section h2{font-size:16px;margin:0 0 10px}section h2 small{color:#5b6b7b;font-weight:400}\n"
       "table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;text-align:right;"
       "border-bottom:1px solid #e6eaee;white-space:nowrap}th{color:#5b6b7b;font-weight:600}\n"
       "td.d,th.d{text-align:left;white-space:normal;word-break:break-all}\n"
       ".bar{display:inline-block;height:9px;background:#3b82c4;border-radius:2px;vertical-align:middle}\n"
       ".chart .hits{fill:#3b82c4}.chart .visitors{fill:#f0a330}.chart .grid{stroke:#e6eaee}"
       ".chart .axis{font-size:11px;fill:#5b6b7b}\n"
       ".legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}\n"
       "</style></head><body>\n";
  h += fmt::format("<header><h1>Web log report</h1><p>{} · generated by mr report</p></header><main>\n",
                   HtmlEscape(period));
  h += "<div class=\"cards\" id=\"general\">\n";
  auto card = [&](const char* id, const char* label, const std::string& value) {
    h += fmt::format("<div class=\"card\" id=\"{}\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", id,
                     HtmlEscape(value), label);
  };
  card("total_requests", "Total requests", std::to_string(r.valid_requests + r.failed_requests));
  card("valid_requests", "Valid requests", std::to_string(r.valid_requests));
  card("failed_requests", "Failed requests", std::to_string(r.failed_requests));
  card("unique_visitors", "Unique visitors", std::to_string(r.unique_visitors));
  card("unique_files", "Requested files", std::to_string(count("requests")));
  card("unique_static_files", "Static files", std::to_string(count("static_requests")));
  card("unique_not_found", "Not found (404)", std::to_string(count("not_found")));
  card("bandwidth", "Bandwidth", FormatBytes(r.bandwidth));
  h += "</div>\n";
  for (const WeblogPanel& p : kWeblogPanels) {
    std::vector<WeblogRow> rows = Shown(r, p, top);
    int64_t entries = count(p.id);
    h += fmt::format("<section id=\"{}\"><h2>{} <small>{}{}</small></h2>\n", p.id, p.title,
                     Counted(entries, "entry", "entries"),
                     !p.by_time && entries > static_cast<int64_t>(rows.size()) ? fmt::format(", top {}", rows.size())
                                                                               : "");
    if (p.by_time && !rows.empty()) {
      h += "<div class=\"legend\"><span style=\"background:#3b82c4\"></span>hits"
           "<span style=\"background:#f0a330\"></span>visitors</div>\n";
      h += SvgChart(rows, p.title);
    }
    if (std::string_view(p.id) == "hourly") {  // the chart says it; a table of every hour is too long
      h += "</section>\n";
      continue;
    }
    int64_t max = 1;
    for (auto& row : rows) max = std::max(max, row.hits);
    h += "<table><tr><th>Hits</th><th>%</th><th>Visitors</th><th>%</th><th>Bandwidth</th><th></th>"
         "<th class=\"d\">Data</th></tr>\n";
    for (auto& row : rows) {
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"bar\" style=\"width:{}px\">"
          "</span></td><td class=\"d\">{}</td></tr>\n",
          row.hits, Percent(row.hits, r.valid_requests), row.visitors, Percent(row.visitors, r.unique_visitors),
          FormatBytes(row.bytes), 1 + 120 * row.hits / max, HtmlEscape(row.item));
    }
    h += "</table></section>\n";
  }
  h += "</main></body></html>\n";
  return h;
}

int CmdReport(const ReportOptions& o) {
  auto report = ReadWeblogReport(o.output);
  if (!report.ok()) {
    std::fprintf(stderr, "mr report: %s\n", report.status().message().c_str());
    return kExitFailed;
  }
  if (!o.html.empty()) {
    std::ofstream out(o.html, std::ios::binary | std::ios::trunc);
    out << RenderHtml(*report, o.top);
    out.close();
    if (!out) {
      std::fprintf(stderr, "mr report: cannot write %s\n", o.html.c_str());
      return kExitFailed;
    }
  }
  if (o.json) {
    std::printf("%s\n", RenderJson(*report, o.top).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (o.html.empty()) {
    std::fputs(RenderTerminal(*report, o.top).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace mr
