#include "jobs/job_args.h"

#include <gtest/gtest.h>

#include <sstream>

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

// Every built-in job is described, and its description declares exactly the keys it accepts, each
// default a value the job takes: `mr help JOB` cannot drift from the job.
TEST(JobArgsTest, EveryJobDeclaresTheArgsItTakes) {
  for (const std::string& name : JobNames()) {
    const JobInfo* info = DescribeJob(name);
    ASSERT_NE(info, nullptr) << name << " has no description in jobs/job_args.cc";
    EXPECT_FALSE(info->summary.empty()) << name;
    JobArgs required;
    std::vector<std::string> declared;
    for (const JobArgInfo& a : info->args) {
      declared.push_back(a.key);
      EXPECT_FALSE(a.meaning.empty()) << name << " " << a.key;
      if (a.required) required[a.key] = "a";
    }
    auto unknown = MakeJob(name, [&] {
      JobArgs args = required;
      args["no-such-arg"] = "1";
      return args;
    }());
    ASSERT_FALSE(unknown.ok()) << name;
    std::string message = unknown.status().message();
    auto pos = message.find("it takes: ");
    std::vector<std::string> accepted;
    if (pos != std::string::npos) {
      std::string list = message.substr(pos + 10, message.rfind(')') - pos - 10);
      std::istringstream items(list);
      for (std::string item; std::getline(items, item, ',');) {
        item.erase(0, item.find_first_not_of(' '));
        if (item != "none") accepted.push_back(item);
      }
    }
    std::sort(accepted.begin(), accepted.end());
    std::sort(declared.begin(), declared.end());
    EXPECT_EQ(accepted, declared) << name << ": " << message;
    EXPECT_TRUE(MakeJob(name, required).ok()) << name;
    for (const JobArgInfo& a : info->args) {
      if (a.default_value.empty()) continue;
      JobArgs args = required;
      args[a.key] = a.default_value;
      auto job = MakeJob(name, args);
      EXPECT_TRUE(job.ok()) << name << " " << a.key << "=" << a.default_value << ": " << job.status().message();
    }
  }
  EXPECT_EQ(DescribeJob("no-such-job"), nullptr);
}

}  // namespace
}  // namespace mr
