#include "jobs/weblog.h"

#include <gtest/gtest.h>

#include "jobs/job_testing.h"

namespace mr {
namespace {

using testing::MapCounters;
using testing::Piece;
using testing::RunInProcess;

const char* kLog =
    "1.2.3.4 - - [29/Feb/2024:23:30:00 -0800] \"GET /a.css HTTP/1.1\" 200 100 \"https://g.example/x\" \"Mozilla/5.0 (Windows NT 10.0) Chrome/1\"\n"
    "1.2.3.4 - - [29/Feb/2024:23:40:00 -0800] \"GET /gone HTTP/1.1\" 404 7 \"-\" \"Mozilla/5.0 (Windows NT 10.0) Chrome/1\"\n"
    "5.6.7.8 - - [01/Mar/2024:00:10:00 -0800] \"GET / HTTP/1.1\" 200 10\n"
    "not a log line\n";

TEST(WeblogTest, EveryPanelInOnePass) {
  auto job = MakeJob("weblog", {});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  MapCounters c;
  std::string out = RunInProcess(**job, {Piece{"/l1", kLog}, Piece{"/l2", kLog}}, &c);
  EXPECT_EQ(c.Get(kWeblogMalformedCounter), 2);
  EXPECT_EQ(out,
            "browsers:00000:Chrome\t4\t1\t214\n"
            "browsers:00000:Unknown\t2\t1\t20\n"
            "count:00000:browsers\t2\n"
            "count:00000:hosts\t2\n"
            "count:00000:hourly\t2\n"
            "count:00000:not_found\t1\n"
            "count:00000:os\t2\n"
            "count:00000:referring_sites\t1\n"
            "count:00000:requests\t1\n"
            "count:00000:static_requests\t1\n"
            "count:00000:status_codes\t2\n"
            "count:00000:visit_time\t2\n"
            "count:00000:visitors\t2\n"
            "day_visitors:00000:2024-02-29\t1\n"
            "day_visitors:00000:2024-03-01\t1\n"
            "general:00000:bandwidth\t234\n"
            "general:00000:failed_requests\t2\n"
            "general:00000:unique_visitors\t2\n"
            "general:00000:valid_requests\t6\n"
            "hosts:00000:1.2.3.4\t4\t1\t214\n"
            "hosts:00000:5.6.7.8\t2\t1\t20\n"
            "hourly:00000:2024-02-29T23\t4\t1\t214\n"
            "hourly:00000:2024-03-01T00\t2\t1\t20\n"
            "not_found:00000:GET /gone HTTP/1.1\t2\t0\t14\n"
            "os:00000:Unknown\t2\t1\t20\n"
            "os:00000:Windows\t4\t1\t214\n"
            "referring_sites:00000:g.example\t2\t1\t200\n"
            "requests:00000:GET / HTTP/1.1\t2\t1\t20\n"
            "static_requests:00000:GET /a.css HTTP/1.1\t2\t1\t200\n"
            "status_codes:00000:200\t4\t2\t220\n"
            "status_codes:00000:404\t2\t0\t14\n"
            "visit_time:00000:00\t2\t1\t20\n"
            "visit_time:00000:23\t4\t1\t214\n"
            "visitors:00000:2024-02-29\t4\t0\t214\n"
            "visitors:00000:2024-03-01\t2\t0\t20\n");
}

// Byte sums never wrap: past the signed 64-bit range the task fails, naming what overflowed, in
// one mapper (two lines) or when partial sums merge (one line in each of two mappers).
TEST(WeblogTest, ByteSumsBeyondSixtyFourBitsFailTheTask) {
  auto job = MakeJob("weblog", {});
  ASSERT_TRUE(job.ok());
  const std::string line = "1.2.3.4 - - [29/Feb/2024:23:30:00 -0800] \"GET /big HTTP/1.1\" 200 9223372036854775807\n";
  for (auto pieces : {std::vector<Piece>{Piece{"/l", line + line}},
                      std::vector<Piece>{Piece{"/l1", line}, Piece{"/l2", line}}}) {
    MapCounters c;
    std::string error;
    RunInProcess(**job, pieces, &c, {}, &error);
    EXPECT_NE(error.find("does not fit in a signed 64-bit integer"), std::string::npos) << error;
  }
  MapCounters c;
  std::string error;
  std::string out = RunInProcess(**job, {Piece{"/l", line}}, &c, {}, &error);
  EXPECT_EQ(error, "");
  EXPECT_NE(out.find("general:00000:bandwidth\t9223372036854775807\n"), std::string::npos) << out;
}

TEST(WeblogTest, TopKeepsTheMostHitEntries) {
  auto job = MakeJob("weblog", {{"top", "1"}, {"time", "utc"}});
  ASSERT_TRUE(job.ok());
  MapCounters c;
  std::string out = RunInProcess(**job, {Piece{"/l1", kLog}, Piece{"/l2", kLog}}, &c);
  EXPECT_NE(out.find("hosts:00000:1.2.3.4\t4\t1\t214\n"), std::string::npos);
  EXPECT_EQ(out.find("hosts:00000:5.6.7.8"), std::string::npos);
  EXPECT_NE(out.find("count:00000:hosts\t2\n"), std::string::npos);
  EXPECT_NE(out.find("day_visitors:00000:2024-03-01\t2\n"), std::string::npos);  // UTC: one day
}

TEST(WeblogTest, Arguments) {
  auto bad = MakeJob("weblog", {{"top", "0"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--arg top=0: want an integer from 1 to 100000");
  auto unknown = MakeJob("weblog", {{"by", "path"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "job weblog has no argument 'by' (it takes: time, top, format)");
}

}  // namespace
}  // namespace mr
