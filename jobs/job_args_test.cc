#include "jobs/job_args.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(JobArgsTest, IntArg) {
  EXPECT_EQ(*GetIntArg({}, "n", 10, 1, 100), 10);
  EXPECT_EQ(*GetIntArg({{"n", "42"}}, "n", 10, 1, 100), 42);
  EXPECT_EQ(*GetIntArg({{"n", "-5"}}, "n", 0, -10, 10), -5);
  for (const char* bad : {"", "0", "101", "4x", " 4", "+4", "1e2", "99999999999999999999"}) {
    auto r = GetIntArg({{"n", bad}}, "n", 10, 1, 100);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), std::string("--arg n=") + bad + ": want an integer from 1 to 100");
  }
}

TEST(JobArgsTest, ChoiceArg) {
  std::vector<std::string> choices = {"status", "path"};
  EXPECT_EQ(*GetChoiceArg({}, "by", choices, 1), 1u);
  EXPECT_EQ(*GetChoiceArg({{"by", "status"}}, "by", choices, 1), 0u);
  auto r = GetChoiceArg({{"by", "Status"}}, "by", choices, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--arg by=Status: want one of status, path");
}

TEST(JobArgsTest, EveryBuiltInJobIsRegistered) {
  EXPECT_EQ(JobNames(), (std::vector<std::string>{"grep", "invertedindex", "logs", "teragen", "terasort", "topn",
                                                 "weblog", "wordcount"}));
}

}  // namespace
}  // namespace mr
