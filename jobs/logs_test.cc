#include "jobs/logs.h"

#include <gtest/gtest.h>

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

TEST(LogsTest, Arguments) {
  auto by = MakeJob("logs", {{"by", "url"}});
  ASSERT_FALSE(by.ok());
  EXPECT_EQ(by.status().message(), "--arg by=url: want one of status, path, host, method, hour, day");
  auto metric = MakeJob("logs", {{"metric", "count"}});
  ASSERT_FALSE(metric.ok());
  EXPECT_EQ(metric.status().message(), "--arg metric=count: want one of requests, bytes");
  auto unknown = MakeJob("logs", {{"n", "3"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "job logs has no argument 'n' (it takes: by, metric)");
  auto job = MakeJob("logs", {});
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE((*job)->SumCombiner());
}

}  // namespace
}  // namespace mr
