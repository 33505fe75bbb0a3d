#include "common/units.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(UnitsTest, SizesAreEquivalent) {
  EXPECT_EQ(ParseSize("64m").value(), 67108864u);
  EXPECT_EQ(ParseSize("64MiB").value(), 67108864u);
  EXPECT_EQ(ParseSize("64MB").value(), 67108864u);
  EXPECT_EQ(ParseSize("67108864").value(), 67108864u);
  EXPECT_EQ(ParseSize("1g").value(), 1ull << 30);
  EXPECT_EQ(ParseSize("4k").value(), 4096u);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("12q").ok());
  EXPECT_FALSE(ParseSize("m").ok());
}

TEST(UnitsTest, Durations) {
  EXPECT_EQ(ParseDuration("500ms").value().count(), 500);
  EXPECT_EQ(ParseDuration("2s").value().count(), 2000);
  EXPECT_EQ(ParseDuration("1m").value().count(), 60000);
  EXPECT_EQ(ParseDuration("3").value().count(), 3000);
  EXPECT_EQ(ParseDuration("0.5").value().count(), 500);
  EXPECT_FALSE(ParseDuration("5 parsecs").ok());
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(16)), "16 ms");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(3400)), "3.4s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(62000)), "1m02s");
}

TEST(UnitsTest, Counted) {
  EXPECT_EQ(Counted(1, "slot"), "1 slot");
  EXPECT_EQ(Counted(0, "slot"), "0 slots");
  EXPECT_EQ(Counted(2, "entry", "entries"), "2 entries");
  EXPECT_EQ(Counted(1, "entry", "entries"), "1 entry");
}

TEST(UnitsTest, HostPort) {
  auto hp = ParseHostPort("127.0.0.1:7070");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 7070);
  EXPECT_EQ(ParseHostPort(":0")->host, "127.0.0.1");
  EXPECT_EQ(ParseHostPort("[::1]:80")->host, "::1");
  EXPECT_EQ(ParseHostPort("[::1]:80")->ToString(), "[::1]:80");
  EXPECT_FALSE(ParseHostPort("nohost").ok());
  EXPECT_FALSE(ParseHostPort("h:99999").ok());
  EXPECT_FALSE(ParseHostPort("h:").ok());
}

TEST(UnitsTest, OneLine) {
  EXPECT_EQ(FormatOneLine("plain text"), "plain text");
  EXPECT_EQ(FormatOneLine("first\nsecond\r\nthird\n\n"), "first | second | third");
  EXPECT_EQ(FormatOneLine(std::string("a\tb\x01\x7f\xff", 6)), "a\tb\\x01\\x7f\xff");
  EXPECT_EQ(FormatOneLine(""), "");
}

TEST(UnitsTest, JobIds) {
  EXPECT_EQ(ParseJobId("7").value(), 7u);
  EXPECT_EQ(ParseJobId("job-7").value(), 7u);
  EXPECT_EQ(ParseJobId("18446744073709551615").value(), UINT64_MAX);
  for (const char* bad : {"", "job-", "abc", "-1", "+1", " 1", "1x", "18446744073709551616",
                          "99999999999999999999999"}) {
    auto id = ParseJobId(bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().message(), std::string("bad job id '") + bad + "'");
  }
}

}  // namespace
}  // namespace mr
