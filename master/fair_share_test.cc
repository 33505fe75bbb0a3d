// The fair-share order and shares on their own.
#include "master/fair_share.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

std::optional<uint64_t> Any(const FairShare& f) {
  return f.Neediest([](uint64_t) { return true; });
}

TEST(FairShareTest, TheJobHoldingFewestSlotsForItsWeightComesFirstTiesToTheEarliest) {
  FairShare f;
  EXPECT_EQ(Any(f), std::nullopt);
  f.Add(2);
  f.Add(1);
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
  // Weight 2: two slots count as one.
  f.Add(3, 2.0);
  f.Started(3);
  f.Started(3);
  f.Started(2);
  f.Started(2);
  EXPECT_EQ(Any(f), 1u);  // 3 has 2/2 = 1, 1 has 1, 2 has 2: 1 and 3 tie, and 1 is earlier
  f.Remove(1);
  EXPECT_EQ(Any(f), 3u);
  f.Remove(3);
  f.Remove(2);
  EXPECT_EQ(Any(f), std::nullopt);
}

TEST(FairShareTest, SharesAreMaxMinFairOverWhatEachJobCanUse) {
  FairShare f;
  f.Add(1);
  f.Add(2);
  auto s = f.Shares({{1, 100}, {2, 100}}, 4);
  EXPECT_DOUBLE_EQ(s[1], 2);
  EXPECT_DOUBLE_EQ(s[2], 2);
  s = f.Shares({{1, 100}, {2, 1}}, 4);  // what job 2 cannot use goes to job 1
  EXPECT_DOUBLE_EQ(s[1], 3);
  EXPECT_DOUBLE_EQ(s[2], 1);
  s = f.Shares({{1, 1}, {2, 1}}, 4);  // never more than a job can use
  EXPECT_DOUBLE_EQ(s[1], 1);
  EXPECT_DOUBLE_EQ(s[2], 1);
  f.Add(3, 2.0);
  s = f.Shares({{1, 100}, {3, 100}}, 6);
  EXPECT_DOUBLE_EQ(s[1], 2);
  EXPECT_DOUBLE_EQ(s[3], 4);
  EXPECT_TRUE(f.Shares({}, 4).empty());
}

}  // namespace
}  // namespace mr
