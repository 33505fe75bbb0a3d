#include "jobs/logs.h"

#include <gtest/gtest.h>

#include <tuple>

#include "jobs/job_testing.h"

namespace mr {
namespace {

using testing::MapCounters;
using testing::Piece;
using testing::RunInProcess;

const char* kLog =
    "1.2.3.4 - - [29/Feb/2024:23:30:00 -0800] \"GET /a?x=1 HTTP/1.1\" 200 100\n"
    "::1 - bob [01/Mar/2024:09:00:00 +0530] \"POST /b HTTP/1.1\" 404 -\n"
    "h.example - - [01/Mar/2024:07:59:59 +0000] \"GET /a?x=1\" 200 5 \"-\" \"agent\"\n"
    "1.2.3.4 - - [31/Feb/2024:00:00:00 +0000] \"GET /a HTTP/1.1\" 200 100\n"
    "garbage\n"
    "\n";

std::string RunLogs(const JobArgs& args, MapCounters* counters) {
  auto job = MakeJob("logs", args);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  if (!job.ok()) return "";
  return RunInProcess(**job, {Piece{"/l1", kLog}, Piece{"/l2", kLog}}, counters);
}

TEST(LogsTest, EveryKeyAndMetric) {
  MapCounters c;
  EXPECT_EQ(RunLogs({}, &c), "200\t4\n404\t2\n");
  EXPECT_EQ(c.Get(kLogsMalformedCounter), 6);
  EXPECT_EQ(RunLogs({{"by", "status"}, {"metric", "bytes"}}, &c), "200\t210\n404\t0\n");
  EXPECT_EQ(RunLogs({{"by", "path"}}, &c), "/a?x=1\t4\n/b\t2\n");
  EXPECT_EQ(RunLogs({{"by", "host"}, {"metric", "bytes"}}, &c), "1.2.3.4\t200\n::1\t0\nh.example\t10\n");
  EXPECT_EQ(RunLogs({{"by", "method"}}, &c), "GET\t4\nPOST\t2\n");
  EXPECT_EQ(RunLogs({{"by", "hour"}}, &c), "2024-03-01T03\t2\n2024-03-01T07\t4\n");
  EXPECT_EQ(RunLogs({{"by", "day"}, {"metric", "requests"}}, &c), "2024-03-01\t6\n");
}

const char* kCombined =
    "1.2.3.4 - - [29/Feb/2024:23:30:00 -0800] \"GET /a.CSS HTTP/1.1\" 200 100 \"https://g.example:8080/x?q\" "
    "\"Mozilla/5.0 (Windows NT 10.0) Chrome/1 Safari/2\"\n"
    "1.2.3.4 - - [29/Feb/2024:23:40:00 -0800] \"GET /api/x HTTP/1.1\" 404 7 \"-\" \"Mozilla/5.0 (Windows NT 10.0) Chrome/1 Safari/2\"\n"
    "1.2.3.4 - - [29/Feb/2024:23:50:00 -0800] \"POST /api/y HTTP/1.1\" 403 9 \"android-app://m.example\" \"say \\\"hi\\\" bot\"\n"
    "5.6.7.8 - - [01/Mar/2024:00:10:00 -0800] \"GET /img.png?v=1 HTTP/1.1\" 200 1\n"
    "5.6.7.8 - - [01/Mar/2024:00:20:00 -0800] \"GET /img.png HTTP/1.1\" 200 1 \"x\"\n";

std::string RunCombined(const JobArgs& args) {
  auto job = MakeJob("logs", args);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  if (!job.ok()) return "";
  MapCounters c;
  return RunInProcess(**job, {Piece{"/l1", kCombined}, Piece{"/l2", kCombined}}, &c);
}

TEST(LogsTest, CombinedFieldsAndFilters) {
  EXPECT_EQ(RunCombined({{"by", "referrer"}}), "g.example:8080\t2\nm.example\t2\n");
  EXPECT_EQ(RunCombined({{"by", "agent"}}),
            "Mozilla/5.0 (Windows NT 10.0) Chrome/1 Safari/2\t4\nsay \\\"hi\\\" bot\t2\n");
  EXPECT_EQ(RunCombined({{"by", "browser"}}), "Chrome\t4\nCrawlers\t2\n");
  EXPECT_EQ(RunCombined({{"by", "os"}}), "Crawlers\t2\nWindows\t4\n");
  EXPECT_EQ(RunCombined({{"by", "file"}}), "/a.CSS\t2\n/img.png\t2\n");
  // Visitors leave out 4xx lines; the two lines of 5.6.7.8 without an agent are one visitor ("-").
  EXPECT_EQ(RunCombined({{"by", "visitors"}}), "2024-03-01\t2\n");
  EXPECT_EQ(RunCombined({{"by", "visitors"}, {"time", "log"}}), "2024-02-29\t1\n2024-03-01\t1\n");
  EXPECT_EQ(RunCombined({{"by", "day"}, {"time", "log"}}), "2024-02-29\t6\n2024-03-01\t4\n");
  EXPECT_EQ(RunCombined({{"by", "path"}, {"status", "4xx"}}), "/api/x\t2\n/api/y\t2\n");
  EXPECT_EQ(RunCombined({{"by", "path"}, {"status", "404"}}), "/api/x\t2\n");
  EXPECT_EQ(RunCombined({{"by", "path"}, {"method", "POST"}}), "/api/y\t2\n");
  EXPECT_EQ(RunCombined({{"by", "status"}, {"path-prefix", "/api/"}, {"metric", "bytes"}}), "403\t18\n404\t14\n");
}

TEST(LogsTest, Arguments) {
  for (auto [key, value, message] : std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"status", "4x", "--arg status=4x: want three digits (404) or a class (4xx)"},
           {"time", "local", "--arg time=local: want one of utc, log"},
           {"method", "", "--arg method=: want a method such as GET"}}) {
    auto bad = MakeJob("logs", {{key, value}});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message(), message);
  }
  auto visitor_bytes = MakeJob("logs", {{"by", "visitors"}, {"metric", "bytes"}});
  EXPECT_FALSE(visitor_bytes.ok());
  auto by = MakeJob("logs", {{"by", "url"}});
  ASSERT_FALSE(by.ok());
  EXPECT_EQ(by.status().message(),
            "--arg by=url: want one of status, path, host, method, hour, day, visitors, referrer, agent, browser, os, file");
  auto metric = MakeJob("logs", {{"metric", "count"}});
  ASSERT_FALSE(metric.ok());
  EXPECT_EQ(metric.status().message(), "--arg metric=count: want one of requests, bytes");
  auto unknown = MakeJob("logs", {{"n", "3"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "job logs has no argument 'n' (it takes: by, metric, time, status, method, path-prefix, format)");
  auto job = MakeJob("logs", {});
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE((*job)->SumCombiner());
}

}  // namespace
}  // namespace mr
