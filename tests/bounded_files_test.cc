// A reducer merges any number of map outputs with a bounded number of open files: a job of ~1,500
// maps on a worker whose open-file limit (1024, the common default) is below the number of map outputs succeeds
// with the exact output, through intermediate merge passes.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <random>
#include <regex>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

using Millis = std::chrono::milliseconds;

// About `bytes` of text: lines of words drawn from a small vocabulary, so every map output holds
// most of the keys and every reduce partition is fetched from every map.
std::string Text(size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    for (int w = 0; w < 8; w++) {
      uint64_t n = rng() % 2000;  // a word of letters (words are runs of letters)
      out += static_cast<char>('a' + n % 26);
      out += static_cast<char>('a' + n / 26 % 26);
      out += static_cast<char>('a' + n / 676);
      out += ' ';
    }
    out.back() = '\n';
  }
  return out;
}

TEST(BoundedFilesTest, ThousandsOfMapOutputsUnderALowOpenFileLimit) {
  TempDir dir;
  std::string input = dir / "in.txt";
  WriteFile(input, Text(6 << 20, 14));
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  // soft and hard: the worker cannot raise it again.
  ASSERT_TRUE(c.StartWorker({"--slots", "2"}, {}, {"/usr/bin/prlimit", "--nofile=1024:1024", "--"}).ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input", input,
                           "--output", dir / "out", "--reducers", "2", "--split-size", "4k", "--wait"},
                          Millis(300000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  JobState job = c.Job(1);
  EXPECT_GE(job.maps_total, 1400) << job.json;
  EXPECT_EQ(SortLines(ReadJobOutput(dir / "out", 2)), SortLines(ReferenceWordCount({input})));
  // Both reduce attempts merged in passes (the automatic factor at 1024 files is 64), none failed.
  std::string log = ReadFile(dir / "worker-0.log");
  std::regex passes(R"(\(([0-9]+) intermediate merges)");
  int reduces_with_passes = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), passes), end; it != end; ++it) {
    if (std::stoi((*it)[1]) > 0) reduces_with_passes++;
  }
  EXPECT_GE(reduces_with_passes, 2) << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  EXPECT_EQ(log.find("Too many open files"), std::string::npos);
  EXPECT_EQ(c.ReapWorkers(false), 0);  // the worker is still running
}

}  // namespace
}  // namespace mr::testing
