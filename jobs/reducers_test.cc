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
  std::string error;
  TaskContext ctx{nullptr, 1, nullptr, &error};
  auto r = NewSumReducer(ctx);
  VectorEmitter out;
  VectorValues values({"2", "40", "x", "-1"});
  r->Reduce("k", values, out);
  EXPECT_EQ(out.out, (KeyValues{{"k", "41"}}));
  EXPECT_EQ(error, "");
}

TEST(SumReducerTest, ASumBeyondSixtyFourBitsFailsNamingTheKeyAndNeverWraps) {
  for (auto vals : {std::vector<std::string>{"9223372036854775807", "1"},
                    std::vector<std::string>{"-9223372036854775807", "-2"},
                    std::vector<std::string>{"99999999999999999999"}}) {
    std::string error;
    TaskContext ctx{nullptr, 1, nullptr, &error};
    auto r = NewSumReducer(ctx);
    VectorEmitter out;
    VectorValues values(vals);
    r->Reduce("bytes-key", values, out);
    EXPECT_TRUE(out.out.empty()) << out.out[0].second;
    EXPECT_NE(error.find("the sum for key 'bytes-key' does not fit in a signed 64-bit integer"), std::string::npos)
        << error;
  }
  std::string error;
  TaskContext ctx{nullptr, 1, nullptr, &error};
  VectorEmitter out;
  VectorValues edge({"9223372036854775806", "1", "-9223372036854775807", "-9223372036854775807", "-1"});
  NewSumReducer(ctx)->Reduce("k", edge, out);  // reaches both ends exactly, never past them
  EXPECT_EQ(out.out, (KeyValues{{"k", "-9223372036854775808"}}));
  EXPECT_EQ(error, "");
}

}  // namespace
}  // namespace mr::testing
