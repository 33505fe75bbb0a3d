// The fair-share order and shares on their own.
#include "master/fair_share.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

std::optional<uint64_t> Any(const FairShare& f) {
  return f.Neediest([](uint64_t) { return true; });
}

PoolsConfig Pools(std::map<std::string, PoolConfig> pools, PoolConfig defaults = {}) {
  return PoolsConfig{std::move(pools), defaults};
}

TEST(FairShareTest, TheJobHoldingFewestSlotsComesFirstTiesToTheEarliest) {
  FairShare f;
  EXPECT_EQ(Any(f), std::nullopt);
  f.Add(2, "p");
  f.Add(1, "p");
  EXPECT_EQ(Any(f), 1u);  // a tie: the earlier job
  f.Started(1);
  EXPECT_EQ(Any(f), 2u);
  f.Started(2);
  f.Started(2);
  EXPECT_EQ(Any(f), 1u);
  EXPECT_EQ(f.Running(2), 2u);
  f.Stopped(2);
  f.Stopped(2);
  f.Stopped(2);  // never below zero
  EXPECT_EQ(f.Running(2), 0u);
  EXPECT_EQ(Any(f), 2u);
  // A job that cannot use a slot is passed over.
  EXPECT_EQ(f.Neediest([](uint64_t job) { return job != 2; }), 1u);
  f.Remove(1);
  f.Remove(2);
  EXPECT_EQ(Any(f), std::nullopt);
}

TEST(FairShareTest, PoolsComeFirstByWeightThenJobsInside) {
  FairShare f;
  f.Configure(Pools({{"big", {2.0, 0, 0}}}));
  f.Add(1, "big");
  f.Add(2, "big");
  f.Add(3, "small");
  // Pool "small" holds 0, "big" 0: a tie, by name: big. Then small (0 vs big's 1/2).
  EXPECT_EQ(Any(f), 1u);
  f.Started(1);
  EXPECT_EQ(Any(f), 3u);
  f.Started(3);
  // big 1/2 < small 1/1: big again, and inside it job 2 (0 running).
  EXPECT_EQ(Any(f), 2u);
  f.Started(2);
  EXPECT_EQ(Any(f), 1u);  // big 2/2 = small 1/1: a tie, by name; in big, job 1 is the earlier
}

TEST(FairShareTest, APoolBelowItsMinimumShareComesFirst) {
  FairShare f;
  f.Configure(Pools({{"etl", {1.0, 3, 0}}}));
  f.Add(1, "adhoc");
  f.Add(2, "etl");
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(Any(f), 2u) << i;  // etl holds fewer than 3
    f.Started(2);
  }
  EXPECT_EQ(Any(f), 1u);  // at its minimum: by weight now, adhoc holds 0
}

TEST(FairShareTest, HigherPriorityFirstInsideAPool) {
  FairShare f;
  f.Add(1, "p", /*rank=*/1);
  f.Add(2, "p", /*rank=*/0);
  f.Add(3, "p", /*rank=*/2);
  f.Started(2);
  f.Started(2);
  EXPECT_EQ(Any(f), 2u);  // high holds 2, normal 0: still high
  EXPECT_EQ(f.Neediest([](uint64_t job) { return job != 2; }), 1u);
  EXPECT_EQ(f.Neediest([](uint64_t job) { return job == 3; }), 3u);
}

TEST(FairShareTest, APoolStartsAtMostItsMaxRunningJobs) {
  FairShare f;
  f.Configure(Pools({}, PoolConfig{1.0, 0, 2}));
  for (uint64_t j = 1; j <= 4; j++) f.Add(j, "p", j == 4 ? 0 : 1);
  EXPECT_TRUE(f.MayStart(1));
  EXPECT_EQ(f.QueuePosition(4), 1u);  // high priority queues first
  EXPECT_EQ(f.QueuePosition(1), 2u);
  f.JobStarted(1);
  f.JobStarted(4);
  EXPECT_FALSE(f.MayStart(2));
  EXPECT_TRUE(f.MayStart(1));  // started jobs may go on
  EXPECT_EQ(f.QueuePosition(2), 1u);
  EXPECT_EQ(f.QueuePosition(3), 2u);
  EXPECT_EQ(f.QueuePosition(1), 0u);
  f.Remove(4);
  EXPECT_TRUE(f.MayStart(2));
  // A reload that lifts the limit.
  f.Configure(Pools({}, PoolConfig{1.0, 0, 0}));
  EXPECT_TRUE(f.MayStart(3));
}

TEST(FairShareTest, SharesAreMaxMinFairOverWhatEachJobCanUse) {
  FairShare f;
  f.Add(1, "a");
  f.Add(2, "b");
  auto s = f.Shares({{1, 100}, {2, 100}}, 4);
  EXPECT_DOUBLE_EQ(s[1], 2);
  EXPECT_DOUBLE_EQ(s[2], 2);
  s = f.Shares({{1, 100}, {2, 1}}, 4);  // what job 2 cannot use goes to job 1
  EXPECT_NEAR(s[1], 3, 1e-9);
  EXPECT_NEAR(s[2], 1, 1e-9);
  s = f.Shares({{1, 1}, {2, 1}}, 4);  // never more than a job can use
  EXPECT_DOUBLE_EQ(s[1], 1);
  EXPECT_DOUBLE_EQ(s[2], 1);
  EXPECT_TRUE(f.Shares({}, 4).empty());
  s = f.Shares({{1, 100}, {2, 100}}, 0);  // no slots (no worker yet): no share, not NaN
  EXPECT_EQ(s[1], 0);
  EXPECT_EQ(s[2], 0);
}

TEST(FairShareTest, SharesFollowWeightsMinimumsAndPriorities) {
  FairShare f;
  f.Configure(Pools({{"a", {2.0, 0, 0}}, {"m", {1.0, 5, 0}}}));
  f.Add(1, "a");
  f.Add(2, "b");
  auto s = f.Shares({{1, 100}, {2, 100}}, 6);  // weights 2:1
  EXPECT_NEAR(s[1], 4, 1e-9);
  EXPECT_NEAR(s[2], 2, 1e-9);
  f.Add(3, "m");
  s = f.Shares({{1, 100}, {2, 100}, {3, 100}}, 9);  // m's minimum of 5 first, then 2:1 of the rest
  EXPECT_NEAR(s[3], 5, 1e-6);
  EXPECT_NEAR(s[1] / s[2], 2, 1e-6);
  // Inside a pool: the high-priority job is served first, the rest split equally.
  f.Add(4, "a", 0);
  f.Add(5, "a", 1);
  s = f.Shares({{1, 100}, {2, 100}, {4, 1}, {5, 100}}, 6);
  EXPECT_NEAR(s[4], 1, 1e-6);
  EXPECT_NEAR(s[1], s[5], 1e-6);
  EXPECT_NEAR(s[1] + s[4] + s[5], 4, 1e-6);
  auto pools = f.Pools({{1, 100}, {2, 100}, {4, 1}, {5, 100}}, 6);
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].name, "a");
  EXPECT_EQ(pools[0].jobs, 3u);
  EXPECT_NEAR(pools[0].fair_share, 4, 1e-6);
}

}  // namespace
}  // namespace mr
