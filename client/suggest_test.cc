#include "client/suggest.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("jobs", "jobs"), 0u);
  EXPECT_EQ(EditDistance("jbos", "jobs"), 1u);  // a swap is one edit
  EXPECT_EQ(EditDistance("--workrs", "--workers"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, Closest) {
  std::vector<std::string> commands = {"master", "worker", "submit", "status", "jobs", "workers", "kill", "wait"};
  EXPECT_EQ(Closest("jbos", commands), "jobs");
  EXPECT_EQ(Closest("stauts", commands), "status");
  EXPECT_EQ(Closest("workres", commands), "workers");
  EXPECT_EQ(Closest("sub", commands), "submit");  // a prefix
  EXPECT_EQ(Closest("zzzzzz", commands), "");
  EXPECT_EQ(Closest("x", commands), "");
  std::vector<std::string> flags = {"--input", "--output", "--workers", "--reducers"};
  EXPECT_EQ(Closest("--workrs", flags), "--workers");
  EXPECT_EQ(Closest("--inptu", flags), "--input");
  EXPECT_EQ(Closest("--colour", flags), "");
}

}  // namespace
}  // namespace mr
