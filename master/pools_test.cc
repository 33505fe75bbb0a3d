// The pools file and a job's pool.
#include "master/pools.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(PoolsTest, ParsesPoolsDefaultsAndComments) {
  auto c = ParsePools("# name weight min max\n etl 2 4 0\nadhoc 0.5 0 3  # ad hoc\n\n* 1 0 2\n", "pools");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pools.size(), 2u);
  EXPECT_DOUBLE_EQ(c->For("etl").weight, 2);
  EXPECT_EQ(c->For("etl").min_share, 4u);
  EXPECT_DOUBLE_EQ(c->For("adhoc").weight, 0.5);
  EXPECT_EQ(c->For("adhoc").max_running_jobs, 3u);
  EXPECT_EQ(c->For("alice").max_running_jobs, 2u);  // the '*' line
  auto empty = ParsePools("", "pools");
  ASSERT_TRUE(empty.ok());
  EXPECT_DOUBLE_EQ(empty->For("x").weight, 1);
  EXPECT_EQ(empty->For("x").max_running_jobs, 0u);
}

TEST(PoolsTest, EveryBadLineIsNamedWithItsNumber) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"a 1 0\n", "pools:1: want: NAME WEIGHT MIN_SHARE MAX_RUNNING_JOBS"},
      {"ok 1 0 0\na 0 0 0\n", "pools:2: weight must be a number > 0"},
      {"a -1 0 0\n", "pools:1: weight must be a number > 0"},
      {"a nan 0 0\n", "pools:1: weight must be a number > 0"},
      {"a 1 -2 0\n", "pools:1: min_share must be a whole number of slots"},
      {"a 1 0 x\n", "pools:1: max_running_jobs must be a whole number (0: no limit)"},
      {"a 1 0 0\na 2 0 0\n", "pools:2: pool a is named twice"},
      {"b/c 1 0 0\n", "pools:1: pool name 'b/c' must be 1 to 64 letters, digits, '.', '_' or '-'"},
  };
  for (const Case& c : cases) {
    auto r = ParsePools(c.text, "pools");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.error) << c.text;
  }
  EXPECT_EQ(ReadPoolsFile("/nonexistent/pools").status().code(), Status::Code::kNotFound);
}

TEST(PoolsTest, AJobsPoolIsItsOwnElseItsOwnersElseDefault) {
  proto::JobSpec spec;
  EXPECT_EQ(PoolOf(spec), "default");
  spec.set_owner("alice");
  EXPECT_EQ(PoolOf(spec), "alice");
  spec.set_pool("etl");
  EXPECT_EQ(PoolOf(spec), "etl");
  EXPECT_EQ(PriorityRank(proto::PRIORITY_HIGH), 0);
  EXPECT_EQ(PriorityRank(proto::PRIORITY_NORMAL), 1);
  EXPECT_EQ(PriorityRank(proto::PRIORITY_LOW), 2);
}

}  // namespace
}  // namespace mr
