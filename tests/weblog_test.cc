// End to end: the `weblog` job through `mr run` and `mr report`, on real processes.
//  - against the independent reference (tests/reference/weblog.py) on generated logs full of traps,
//    with several reducers and small splits: general totals, every panel's entries, hits and bytes
//    exactly; per-entry visitors exactly up to 64 and within the sketch's error above;
//  - against GoAccess 1.7 itself on a clean Combined log (skipped when `goaccess` is not installed):
//    the `general` totals, unique visitors per day and the 404 entries;
//  - the HTML page opened by headless Chromium (skipped when `chromium` is not installed): the DOM
//    it renders shows the totals;
//  - `mr report` on something that is not a weblog output fails with one line.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kGeneralFields[] = {"total_requests",  "valid_requests",      "failed_requests", "unique_visitors",
                                "unique_files",    "unique_static_files", "unique_not_found", "bandwidth"};

// %XX decoded, as GoAccess shows request paths.
std::string PercentDecoded(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool Installed(const std::string& program) {
  return RunCommand({"/bin/sh", "-c", "command -v " + program}).exit_code == 0;
}

class WeblogTest : public ::testing::Test {
 protected:
  TempDir dir_;

  std::string Generate(const std::string& name, const std::string& mb, const std::string& seed, bool clean) {
    std::string path = dir_ / name;
    fs::create_directories(fs::path(path).parent_path());
    std::vector<std::string> argv = {"/bin/sh", "-c",
                                     fmt::format("python3 {}/scripts/gen_logs.py {} --seed {} {} > {}", SourceDir(),
                                                 mb, seed, clean ? "--clean" : "", path)};
    EXPECT_EQ(RunCommand(argv).exit_code, 0);
    return path;
  }

  // mr run --job weblog, then mr report --json; the parsed JSON.
  json RunWeblog(const std::vector<std::string>& inputs, const std::string& out, int reducers,
                 const std::string& split, const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {"run", "--job", "weblog", "--output", out, "--reducers",
                                     std::to_string(reducers), "--workers", "2"};
    for (auto& in : inputs) argv.insert(argv.end(), {"--input", in});
    if (!split.empty()) argv.insert(argv.end(), {"--split-size", split});
    for (auto& a : args) argv.insert(argv.end(), {"--arg", a});
    CommandResult run = RunMr(argv);
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    CommandResult report = RunMr({"report", out, "--json", "--top", "100000"});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    return json::parse(report.out, nullptr, /*allow_exceptions=*/false);
  }

  json Reference(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "python3", SourceDir() + "/tests/reference/weblog.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
};

TEST_F(WeblogTest, MatchesTheReferenceOnLogsFullOfTraps) {
  std::string a = Generate("logs/a.log", "1.5", "31", false);
  std::string b = Generate("logs/sub/b.log", "0.5", "32", false);
  struct Config {
    int reducers;
    std::string split;
    std::string time;
  };
  for (const Config& c : {Config{3, "128k", "log"}, Config{1, "", "utc"}}) {
    std::string what = fmt::format("reducers={} split={} time={}", c.reducers, c.split, c.time);
    json got = RunWeblog({dir_ / "logs"}, dir_ / ("out-" + c.time), c.reducers, c.split,
                         {"time=" + c.time, "top=100000"});
    json want = Reference({"--time", c.time, a, b});
    ASSERT_TRUE(got.is_object() && want.is_object()) << what;
    for (const char* f : kGeneralFields) EXPECT_EQ(got["general"][f], want["general"][f]) << f << " " << what;
    EXPECT_GT(want["general"]["failed_requests"].get<int64_t>(), 0);
    EXPECT_EQ(got["general"]["unique_referring_sites"], want["general"]["unique_referring_sites"]) << what;
    int sketched = 0;
    for (auto& [panel, entries] : want.items()) {
      if (panel == "general") continue;
      std::map<std::string, json> rows;
      for (auto& row : got[panel]["data"]) {
        std::string item = row["data"].get<std::string>();
        if (row.contains("method")) {
          item = row["method"].get<std::string>() + " " + item;
          if (!row["protocol"].get<std::string>().empty()) item += " " + row["protocol"].get<std::string>();
        }
        rows[item] = row;
      }
      EXPECT_EQ(rows.size(), entries.size()) << panel << " " << what;
      for (auto& [item, e] : entries.items()) {
        auto it = rows.find(item);
        if (it == rows.end()) {
          ADD_FAILURE() << panel << " lacks " << item << " " << what;
          continue;
        }
        EXPECT_EQ(it->second["hits"]["count"], e["hits"]) << panel << " " << item;
        EXPECT_EQ(it->second["bytes"]["count"], e["bytes"]) << panel << " " << item;
        int64_t v = it->second["visitors"]["count"].get<int64_t>(), exact = e["visitors"].get<int64_t>();
        if (exact <= 64 || panel == "visitors") {
          EXPECT_EQ(v, exact) << panel << " " << item;
        } else {
          sketched++;
          EXPECT_LE(std::abs(static_cast<double>(v - exact)) / exact, 0.065) << panel << " " << item;  // 4 sigma
        }
      }
    }
    EXPECT_GT(sketched, 10) << what;  // the HyperLogLog path was exercised
  }
}

// GoAccess 1.7 with its default settings (and its packaged global config, whose static-file list
// weblog uses) on a clean Combined log: the same totals, visitors per day and 404s.
TEST_F(WeblogTest, AgreesWithGoAccess) {
  if (!Installed("goaccess")) GTEST_SKIP() << "goaccess is not installed (apt-get install goaccess)";
  std::string log = Generate("clean/access.log", "2", "41", true);
  json got = RunWeblog({log}, dir_ / "out", 2, "256k", {"top=100000"});
  std::string goaccess_json = dir_ / "goaccess.json";
  CommandResult g = RunCommand({"/bin/sh", "-c",
                                fmt::format("goaccess {} --log-format=COMBINED --no-progress -o {} 2>&1", log,
                                            goaccess_json)});
  ASSERT_EQ(g.exit_code, 0) << g.out;
  json want = json::parse(ReadFile(goaccess_json), nullptr, false);
  ASSERT_TRUE(want.is_object());
  for (const char* f : kGeneralFields) EXPECT_EQ(got["general"][f], want["general"][f]) << f;
  EXPECT_EQ(got["general"]["start_date"], want["general"]["start_date"]);
  EXPECT_EQ(got["general"]["end_date"], want["general"]["end_date"]);
  // Unique visitors per day: GoAccess's dates are YYYYMMDD.
  std::map<std::string, int64_t> days;
  for (auto& row : got["visitors"]["data"]) {
    std::string d = row["data"].get<std::string>();
    days[d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2)] = row["visitors"]["count"].get<int64_t>();
  }
  ASSERT_EQ(days.size(), want["visitors"]["data"].size());
  for (auto& row : want["visitors"]["data"]) {
    EXPECT_EQ(days[row["data"].get<std::string>()], row["visitors"]["count"].get<int64_t>()) << row["data"];
  }
  // 404s: every entry GoAccess lists, with its hits and bytes (GoAccess shows paths decoded and
  // HTTP/2.0 as HTTP/2; weblog keeps them as written).
  std::map<std::string, std::pair<int64_t, int64_t>> not_found;
  for (auto& row : got["not_found"]["data"]) {
    std::string protocol = row["protocol"].get<std::string>();
    if (protocol == "HTTP/2.0") protocol = "HTTP/2";  // GoAccess shows it so
    not_found[row["method"].get<std::string>() + " " + PercentDecoded(row["data"]) + " " + protocol] = {
        row["hits"]["count"], row["bytes"]["count"]};
  }
  ASSERT_GT(want["not_found"]["data"].size(), 10u);
  for (auto& row : want["not_found"]["data"]) {
    std::string key = row["method"].get<std::string>() + " " + row["data"].get<std::string>() + " " +
                      row["protocol"].get<std::string>();
    auto it = not_found.find(key);
    ASSERT_NE(it, not_found.end()) << key;
    EXPECT_EQ(it->second.first, row["hits"]["count"].get<int64_t>()) << key;
    EXPECT_EQ(it->second.second, row["bytes"]["count"].get<int64_t>()) << key;
  }
}

// The HTML page is self-contained and renders its totals in a real browser.
TEST_F(WeblogTest, HtmlReportRendersInHeadlessChromium) {
  std::string log = Generate("html/access.log", "0.5", "51", false);
  json got = RunWeblog({log}, dir_ / "out", 2, "");
  std::string page = dir_ / "report.html";
  CommandResult r = RunMr({"report", dir_ / "out", "--html", page});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = ReadFile(page);
  EXPECT_EQ(html.find("http://"), std::string::npos);  // nothing fetched from the network
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  if (!Installed("chromium")) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  CommandResult dom = RunCommand(
      {"/bin/sh", "-c",
       fmt::format("chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                   "--disable-background-networking --disable-component-update --disable-sync "
                   "--user-data-dir={} --dump-dom file://{} 2>/dev/null",
                   dir_ / "chromium-profile", page)},
      std::chrono::seconds(120));
  ASSERT_EQ(dom.exit_code, 0);
  for (const char* f : {"total_requests", "valid_requests", "failed_requests", "unique_visitors", "unique_files",
                        "unique_static_files", "unique_not_found"}) {
    std::string card = fmt::format("id=\"{}\"><div class=\"v\">{}</div>", f, got["general"][f].get<int64_t>());
    EXPECT_NE(dom.out.find(card), std::string::npos) << card;
  }
  EXPECT_NE(dom.out.find("<svg"), std::string::npos);
}

// Rotated logs: access.log.1.gz beside access.log is read decompressed, one split per .gz file,
// whatever the split size, and counts exactly as the plain text would.
TEST_F(WeblogTest, GzipInputsAreReadWhole) {
  std::string a = Generate("plain/access.log.1", "1", "61", false);
  std::string b = Generate("plain/access.log", "0.3", "62", false);
  fs::create_directories(dir_ / "rotated");
  ASSERT_EQ(RunCommand({"/bin/sh", "-c", fmt::format("gzip -c {} > {}/access.log.1.gz && cp {} {}/", a,
                                                     dir_ / "rotated", b, dir_ / "rotated")})
                .exit_code,
            0);
  json got = RunWeblog({dir_ / "rotated"}, dir_ / "out", 2, "64k", {"top=100000"});
  json want = Reference({a, b});
  for (const char* f : kGeneralFields) EXPECT_EQ(got["general"][f], want["general"][f]) << f;
  CommandResult run = RunMr({"run", "--job", "logs", "--arg", "by=path", "--input", dir_ / "rotated", "--output",
                             dir_ / "paths", "--split-size", "64k", "--reducers", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  CommandResult ref = RunCommand({"/usr/bin/env", "python3", SourceDir() + "/tests/reference/logs.py", "--by", "path",
                                  a, b});
  EXPECT_TRUE(ReadJobOutput(dir_ / "paths", 1) == ref.out);
  // A corrupt .gz fails the job with a message naming the file.
  fs::create_directories(dir_ / "bad");
  WriteFile(dir_ / "bad/x.log.gz", "not gzip\n");
  CommandResult bad = RunMr({"run", "--job", "logs", "--input", dir_ / "bad", "--output", dir_ / "bad-out"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("x.log.gz is not valid gzip data"), std::string::npos) << bad.out << bad.err;
}

// --arg format=: the same lines in Apache's vhost_combined layout, and rearranged into a custom
// layout, give what the reference gives on the original Combined lines.
TEST_F(WeblogTest, CustomFormatsReadTheSameLines) {
  std::string log = Generate("orig/access.log", "0.5", "71", true);
  std::string vhost = dir_ / "vhost/access.log", custom = dir_ / "custom/access.log";
  fs::create_directories(dir_ / "vhost");
  fs::create_directories(dir_ / "custom");
  std::string script = fmt::format(
      "import re, sys\n"
      "v, c = open('{}', 'wb'), open('{}', 'wb')\n"
      "for line in open('{}', 'rb'):\n"
      "    v.write(b'shop.example:443 ' + line)\n"
      "    m = re.match(rb'(\\S+) \\S+ \\S+ (\\[[^]]*\\]) (\"[^\"]*\") (\\d+) (\\S+) (\"[^\"]*\") (\".*\")\\n', line)\n"
      "    c.write(b'|'.join([m[2], m[1], m[3], m[4], m[5], m[7], m[6]]) + b'\\n')\n",
      vhost, custom, log);
  ASSERT_EQ(RunCommand({"/usr/bin/env", "python3", "-c", script}).exit_code, 0);
  struct Case {
    std::string input, format;
  };
  for (const Case& c : {Case{vhost, "vcombined"}, Case{custom, "%t|%h|%r|%s|%b|%u|%R"}}) {
    for (std::string by : {"path", "visitors", "referrer", "browser"}) {
      std::string out = dir_ / ("out-" + by + "-" + fs::path(c.input).parent_path().filename().string());
      CommandResult run = RunMr({"run", "--job", "logs", "--arg", "by=" + by, "--arg", "format=" + c.format, "--input",
                                 c.input, "--output", out, "--reducers", "1"});
      ASSERT_EQ(run.exit_code, 0) << run.err;
      CommandResult ref = RunCommand(
          {"/usr/bin/env", "python3", SourceDir() + "/tests/reference/logs.py", "--by", by, log});
      EXPECT_GT(ref.out.size(), 10u);
      EXPECT_TRUE(ReadJobOutput(out, 1) == ref.out) << c.format << " by=" << by;
    }
  }
}

// A pipeline in one command (mrjob's multi-step jobs): logs by=path, then topn n=10 over its
// output, with the intermediate output kept out of the way (nothing but the final output remains).
TEST_F(WeblogTest, TopTenPathsInOneCommand) {
  std::string log = Generate("p/access.log", "1", "81", false);
  std::string out = dir_ / "out/top10";
  CommandResult run = RunMr({"run", "--job", "logs", "--arg", "by=path", "--input", log, "--output", out,
                             "--reducers", "3", "--split-size", "128k", "--then", "topn n=10"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("step 2/2: running topn"), std::string::npos) << run.out;
  std::string counts = dir_ / "counts.txt";
  WriteFile(counts, RunCommand({"/usr/bin/env", "python3", SourceDir() + "/tests/reference/logs.py", "--by", "path",
                                log})
                        .out);
  CommandResult top = RunCommand({"/usr/bin/env", "python3", SourceDir() + "/tests/reference/topn.py", "10", counts});
  EXPECT_EQ(ReadJobOutput(out, 1), top.out);
  std::vector<std::string> left;
  for (auto& e : fs::directory_iterator(dir_ / "out")) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"top10"});
  // A bad later step is refused before anything runs, with the exit code of a bad --arg (1).
  CommandResult bad = RunMr({"run", "--job", "logs", "--input", log, "--output", dir_ / "never", "--then", "topn n=0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "mr: --then topn n=0: --arg n=0: want an integer from 1 to 10000000\n");
  EXPECT_FALSE(fs::exists(dir_ / "never"));
}

TEST_F(WeblogTest, ReportRefusesWhatIsNotWeblogOutput) {
  CommandResult missing = RunMr({"report", dir_ / "nothing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            fmt::format("mr report: {} is not a directory (it does not exist here)\n", dir_ / "nothing"));
  fs::create_directories(dir_ / "wc");
  WriteFile(dir_ / "wc/part-r-00000", "hello\t3\n");
  CommandResult unfinished = RunMr({"report", dir_ / "wc"});
  EXPECT_EQ(unfinished.exit_code, 1);
  EXPECT_NE(unfinished.err.find("no _SUCCESS"), std::string::npos) << unfinished.err;
  WriteFile(dir_ / "wc/_SUCCESS", "");
  CommandResult wrong = RunMr({"report", dir_ / "wc", "--json"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err, fmt::format("mr report: {}/part-r-00000 line 1 is not weblog output (was OUT written by "
                                   "--job weblog?)\n", dir_ / "wc"));
  EXPECT_EQ(wrong.out, "");
}

}  // namespace
}  // namespace mr::testing
