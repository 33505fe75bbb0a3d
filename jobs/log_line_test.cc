#include "jobs/log_line.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace mr {
namespace {

constexpr const char* kCommon =
    R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)";

CivilTime T(int y, int mo, int d, int h, int mi, int s) { return CivilTime{y, mo, d, h, mi, s}; }

std::string WithTime(const std::string& time) {
  return "10.0.0.1 - - [" + time + R"(] "GET / HTTP/1.1" 200 1)";
}

std::optional<CivilTime> Utc(const std::string& time) {
  auto r = ParseLogLine(WithTime(time));
  if (!r) return std::nullopt;
  return r->utc;
}

TEST(LogLineTest, Common) {
  auto r = ParseLogLine(kCommon);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->ident, "-");
  EXPECT_EQ(r->user, "frank");
  EXPECT_EQ(r->local, T(2000, 10, 10, 13, 55, 36));
  EXPECT_EQ(r->zone_offset_minutes, -420);
  EXPECT_EQ(r->utc, T(2000, 10, 10, 20, 55, 36));
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/apache_pb.gif");
  EXPECT_EQ(r->protocol, "HTTP/1.0");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->bytes, 2326);
  EXPECT_EQ(r->rest, "");
}

TEST(LogLineTest, Combined) {
  std::string line =
      std::string(kCommon) + R"L( "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")L";
  auto r = ParseLogLine(line);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 2326);
  EXPECT_EQ(r->rest, R"L("http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")L");
  // Extra fields after the agent, and a trailing space with nothing after it, are fine.
  EXPECT_TRUE(ParseLogLine(line + " 0.123 upstream=10.1.1.1:80"));
  std::string with_space = std::string(kCommon) + " ";
  auto trailing = ParseLogLine(with_space);
  ASSERT_TRUE(trailing);
  EXPECT_EQ(trailing->rest, "");
}

TEST(LogLineTest, HostsOfEveryKind) {
  for (std::string host : {"2001:db8::ff00:42:8329", "::1", "[2001:db8::1]",
                           "crawl-66-249-66-1.googlebot.com", "localhost", "203.0.113.255"}) {
    std::string line = host + R"( - - [01/Jan/2024:00:00:00 +0000] "GET /x HTTP/1.1" 404 -)";
    auto r = ParseLogLine(line);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->host, host);
  }
}

TEST(LogLineTest, DashBytesAndRequestForms) {
  auto r = ParseLogLine(R"(h - - [01/Jan/2024:00:00:00 +0000] "HEAD /x?a=1&b=%20 HTTP/2.0" 304 -)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 0);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->path, "/x?a=1&b=%20");
  auto no_protocol = ParseLogLine(R"(h - - [01/Jan/2024:00:00:00 +0000] "GET /old" 200 10)");
  ASSERT_TRUE(no_protocol);
  EXPECT_EQ(no_protocol->path, "/old");
  EXPECT_EQ(no_protocol->protocol, "");
  auto dav =
      ParseLogLine("h - - [01/Jan/2024:00:00:00 +0000] \"VERSION-CONTROL /caf\xc3\xa9 HTTP/1.1\" 200 1");
  ASSERT_TRUE(dav);
  EXPECT_EQ(dav->method, "VERSION-CONTROL");
  EXPECT_EQ(dav->path, "/caf\xc3\xa9");
  auto zero_status = ParseLogLine(R"(h - - [01/Jan/2024:00:00:00 +0000] "GET /" 007 0042)");
  ASSERT_TRUE(zero_status);
  EXPECT_EQ(zero_status->status, 7);
  EXPECT_EQ(zero_status->bytes, 42);
  auto max = ParseLogLine(R"(h - - [01/Jan/2024:00:00:00 +0000] "GET /" 200 9223372036854775807)");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->bytes, INT64_MAX);
}

TEST(LogLineTest, ZonesCrossDayMonthAndYearBoundaries) {
  EXPECT_EQ(Utc("01/Jan/2024:02:00:00 +0530"), T(2023, 12, 31, 20, 30, 0));
  EXPECT_EQ(Utc("31/Dec/2023:20:00:00 -0800"), T(2024, 1, 1, 4, 0, 0));
  EXPECT_EQ(Utc("28/Feb/2024:23:59:59 -0800"), T(2024, 2, 29, 7, 59, 59));
  EXPECT_EQ(Utc("29/Feb/2024:23:00:00 -0800"), T(2024, 3, 1, 7, 0, 0));
  EXPECT_EQ(Utc("28/Feb/2023:23:30:00 -0100"), T(2023, 3, 1, 0, 30, 0));
  EXPECT_EQ(Utc("01/Mar/2024:05:00:00 +0530"), T(2024, 2, 29, 23, 30, 0));
  EXPECT_EQ(Utc("01/Mar/2023:05:00:00 +0530"), T(2023, 2, 28, 23, 30, 0));
  EXPECT_EQ(Utc("15/Jun/2024:12:00:00 +0000"), T(2024, 6, 15, 12, 0, 0));
  EXPECT_EQ(Utc("15/Jun/2024:12:00:00 -0000"), T(2024, 6, 15, 12, 0, 0));
  EXPECT_EQ(Utc("01/Jan/2024:00:10:00 +2359"), T(2023, 12, 31, 0, 11, 0));
  EXPECT_EQ(Utc("31/Dec/2024:23:50:00 -2359"), T(2025, 1, 1, 23, 49, 0));
  EXPECT_EQ(Utc("01/Jan/2024:00:00:00 +1345"), T(2023, 12, 31, 10, 15, 0));
}

TEST(LogLineTest, LeapDays) {
  EXPECT_TRUE(Utc("29/Feb/2024:12:00:00 +0000"));
  EXPECT_FALSE(Utc("29/Feb/2023:12:00:00 +0000"));
  EXPECT_TRUE(Utc("29/Feb/2000:12:00:00 +0000"));
  EXPECT_FALSE(Utc("29/Feb/1900:12:00:00 +0000"));
  EXPECT_FALSE(Utc("30/Feb/2024:12:00:00 +0000"));
  EXPECT_FALSE(Utc("31/Feb/2024:12:00:00 +0000"));
}

TEST(LogLineTest, ImpossibleTimes) {
  for (std::string time :
       {"31/Apr/2024:00:00:00 +0000", "31/Jun/2024:00:00:00 +0000", "00/Jan/2024:00:00:00 +0000",
        "32/Jan/2024:00:00:00 +0000", "10/Oct/2000:24:00:00 +0000", "10/Oct/2000:23:60:00 +0000",
        "10/Oct/2000:23:59:60 +0000", "10/Foo/2000:13:55:36 -0700", "10/oct/2000:13:55:36 -0700",
        "10/OCT/2000:13:55:36 -0700", "10/Oct/0000:13:55:36 -0700", "10/Oct/2000:13:55:36 +2400",
        "10/Oct/2000:13:55:36 +0060", "10/Oct/2000:13:55:36 0700", "10/Oct/2000:13:55:36 +07:00",
        "10/Oct/2000:13:55:36 +700", "10/Oct/2000:13:55:36 -07000", "10/Oct/2000:13:55:36",
        "10/Oct/2000 13:55:36 +0000", "1/Oct/2000:13:55:36 +0000", "10/Oct/200:13:55:36 +0000",
        "10/10/2000:13:55:36 +0000", "10/Oct/2000:13:55:3a +0000", "10/Oct/2000:13:55:36  +0000",
        // The UTC time must stay within the years 0001..9999.
        "01/Jan/0001:00:30:00 +0100", "31/Dec/9999:23:30:00 -0100"}) {
    EXPECT_FALSE(Utc(time)) << time;
  }
  EXPECT_EQ(Utc("01/Jan/0001:01:30:00 +0100"), T(1, 1, 1, 0, 30, 0));
  EXPECT_EQ(Utc("31/Dec/9999:22:30:00 -0100"), T(9999, 12, 31, 23, 30, 0));
}

TEST(LogLineTest, EveryPrefixBeforeTheBytesIsTruncated) {
  std::string line = kCommon;
  size_t bytes_start = line.rfind(' ') + 1;
  for (size_t n = 0; n < bytes_start; n++) EXPECT_FALSE(ParseLogLine(line.substr(0, n))) << line.substr(0, n);
  // A prefix ending inside BYTES is a (shorter) valid line.
  auto r = ParseLogLine(line.substr(0, bytes_start + 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 23);
}

TEST(LogLineTest, MalformedShapes) {
  for (std::string line :
       {R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a b HTTP/1.0" 200 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0 " 200 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET  /a HTTP/1.0" 200 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET" 200 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "-" 400 0)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "" 400 0)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01 / HTTP/1.1" 400 0)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] GET /a HTTP/1.0 200 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 20 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 2000 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 2x0 2326)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 12a)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 -1)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 --)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 )",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 9223372036854775808)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 5	tab)",
        R"(127.0.0.1  - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326)",
        R"(127.0.0.1 - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326)",
        R"( 127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326)",
        R"(127.0.0.1 - frank 10/Oct/2000:13:55:36 -0700 "GET /a HTTP/1.0" 200 2326)",
        R"(127.0.0.1	- frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326)",
        "",
        " ",
        "-",
        "garbage",
        "\"\"\"\"",
        "[] \"\" 200 1"}) {
    EXPECT_FALSE(ParseLogLine(line)) << line;
  }
  // Control bytes are not field bytes.
  std::string with_nul = kCommon;
  with_nul[with_nul.find("/apache") + 3] = '\0';
  EXPECT_FALSE(ParseLogLine(with_nul));
  std::string with_del = kCommon;
  with_del[1] = '\x7f';
  EXPECT_FALSE(ParseLogLine(with_del));
}

TEST(LogLineTest, BinaryGarbage) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; i++) {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_FALSE(ParseLogLine(s));
  }
  // Random corruption of one byte of a valid line either still parses or is rejected; never crashes.
  std::string line = std::string(kCommon) + R"( "-" "curl/8.0")";
  int accepted = 0;
  for (size_t i = 0; i < line.size(); i++) {
    for (int b : {0x00, 0x20, 0x22, 0x5b, 0x5d, 0x2f, 0x3a, 0x39, 0x80, 0xff}) {
      std::string bad = line;
      bad[i] = static_cast<char>(b);
      accepted += ParseLogLine(bad).has_value();
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(LogLineTest, MegabyteLines) {
  std::string long_path = "/" + std::string(1 << 20, 'p');
  std::string line = R"(h - - [01/Jan/2024:00:00:00 +0000] "GET )" + long_path + R"( HTTP/1.1" 200 7)";
  auto r = ParseLogLine(line);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path.size(), long_path.size());
  std::string long_agent = std::string(kCommon) + " \"-\" \"" + std::string(1 << 20, 'a') + "\"";
  auto agent = ParseLogLine(long_agent);
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->bytes, 2326);
  EXPECT_FALSE(ParseLogLine(std::string(1 << 20, 'x')));
  EXPECT_FALSE(ParseLogLine(std::string(1 << 20, ' ')));
}

TEST(LogLineTest, CivilDaysRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  int64_t prev = DaysFromCivil(1, 1, 1) - 1;
  for (int64_t d = DaysFromCivil(1, 1, 1); d <= DaysFromCivil(9999, 12, 31); d += 17) {
    int y, m, day;
    CivilFromDays(d, &y, &m, &day);
    ASSERT_EQ(DaysFromCivil(y, m, day), d);
    ASSERT_GT(d, prev);
    prev = d;
  }
}

}  // namespace
}  // namespace mr
