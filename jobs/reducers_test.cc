// The shared reducers: identity and sum.
#include <gtest/gtest.h>

#include "jobs/identity_reducer.h"
#include "jobs/job_testing.h"
#include "jobs/sum_reducer.h"

namespace mr::testing {
namespace {

TEST(IdentityReducerTest, WritesEveryValueUnderItsKey) {
  auto r = NewIdentityReducer();
  VectorEmitter out;
  VectorValues values({"b", "a", "b", ""});
  r->Reduce("k", values, out);
  EXPECT_EQ(out.out, (KeyValues{{"k", "b"}, {"k", "a"}, {"k", "b"}, {"k", ""}}));
}

TEST(SumReducerTest, SumsIntegersAndCountsOthersAsZero) {
  auto r = NewSumReducer();
  VectorEmitter out;
  VectorValues values({"2", "40", "x", "-1"});
  r->Reduce("k", values, out);
  EXPECT_EQ(out.out, (KeyValues{{"k", "41"}}));
}

}  // namespace
}  // namespace mr::testing
