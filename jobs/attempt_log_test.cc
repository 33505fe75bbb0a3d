#include "jobs/attempt_log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mr {
namespace {

TEST(AttemptLogTest, KeepsTheNewestBytesFromALineStart) {
  AttemptLog log(160);
  std::string all;
  for (int i = 0; i < 40; i++) {
    std::string line = "line " + std::to_string(i) + "\n";
    log.Stderr(line);
    all += line;
  }
  std::string kept = log.user_stderr();
  EXPECT_LE(kept.size(), 160u);
  EXPECT_GE(kept.size(), 150u);
  EXPECT_TRUE(all.ends_with(kept));
  EXPECT_TRUE(kept.starts_with("line ")) << kept;
  EXPECT_TRUE(log.stderr_truncated());
}

TEST(AttemptLogTest, ShortOutputIsKeptWholeAndLinesAreTimed) {
  AttemptLog log;
  log.Stderr("oops\n");
  log.Line("job-1/m0/a1 started");
  EXPECT_EQ(log.user_stderr(), "oops\n");
  EXPECT_FALSE(log.stderr_truncated());
  EXPECT_TRUE(log.log().ends_with(" job-1/m0/a1 started\n")) << log.log();
  EXPECT_EQ(log.log().size(), std::string("2026-01-01 00:00:00 job-1/m0/a1 started\n").size());
}

TEST(AttemptLogTest, ManyWritersStayWithinTheBound) {
  AttemptLog log(4096);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; i++) log.Stderr("0123456789abcdef\n");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(log.user_stderr().size(), 4096u);
  EXPECT_TRUE(log.stderr_truncated());
}

}  // namespace
}  // namespace mr
