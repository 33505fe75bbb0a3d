#include "jobs/grep.h"

#include <gtest/gtest.h>

#include "jobs/job_testing.h"

namespace mr {
namespace {

using testing::MapCounters;
using testing::Piece;
using testing::RunInProcess;

TEST(GrepTest, KeyIsFileColonZeroPaddedOffset) {
  std::string key;
  GrepKey("/data/logs/a.log", 0, &key);
  EXPECT_EQ(key, "/data/logs/a.log:000000000000");
  GrepKey("/data/logs/a.log", 123456, &key);
  EXPECT_EQ(key, "/data/logs/a.log:000000123456");
  GrepKey("/x", 999'999'999'999, &key);
  EXPECT_EQ(key, "/x:999999999999");
  GrepKey("/x", 1'000'000'000'000, &key);  // past 12 digits the offset simply grows
  EXPECT_EQ(key, "/x:1000000000000");
  GrepKey("/odd:name", 5, &key);
  EXPECT_EQ(key, "/odd:name:000000000005");
  // A name can never break the output line: TAB, LF and backslash are escaped; nothing else is.
  GrepKey("/d/tab\there\nnew\\back \r\xff", 7, &key);
  EXPECT_EQ(key, "/d/tab\\there\\nnew\\\\back \r\xff:000000000007");
}

TEST(GrepTest, PatternIsRequiredAndChecked) {
  auto missing = MakeJob("grep", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("pattern"), std::string::npos);
  auto empty = MakeJob("grep", {{"pattern", ""}});
  EXPECT_FALSE(empty.ok());
  auto bad = MakeJob("grep", {{"pattern", "a(b"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("missing )"), std::string::npos) << bad.status().message();
  auto unknown = MakeJob("grep", {{"pattern", "a"}, {"ignorecase", "true"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("ignorecase"), std::string::npos);
  EXPECT_TRUE(MakeJob("grep", {{"pattern", "(?i)err(or)?\\b"}}).ok());
}

TEST(GrepTest, EmitsMatchingLinesWithTheirOffsets) {
  auto job = MakeJob("grep", {{"pattern", "b+c"}});
  ASSERT_TRUE(job.ok());
  MapCounters counters;
  std::string out = RunInProcess(
      **job, {Piece{"/in/one.txt", "abc\nxyz\r\nbbbc\r\n\nno\nlast bc"}, Piece{"/in/two.txt", "bc\n"}},
      &counters);
  EXPECT_EQ(out,
            "/in/one.txt:000000000000\tabc\n"
            "/in/one.txt:000000000009\tbbbc\n"
            "/in/one.txt:000000000019\tlast bc\n"
            "/in/two.txt:000000000000\tbc\n");
}

TEST(GrepTest, AnchorsAndUtf8) {
  auto job = MakeJob("grep", {{"pattern", "^é.$"}});
  ASSERT_TRUE(job.ok());
  MapCounters counters;
  std::string out = RunInProcess(**job, {Piece{"f", "éa\néé\né\nxéa\néab\n"}}, &counters);
  EXPECT_EQ(out, "f:000000000000\téa\nf:000000000004\téé\n");
}

}  // namespace
}  // namespace mr
