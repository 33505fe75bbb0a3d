#include "jobs/topn.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "jobs/job_testing.h"

namespace mr {
namespace {

using testing::MapCounters;
using testing::Piece;
using testing::RunInProcess;

TEST(TopNTest, ParseLine) {
  std::string_view key;
  int64_t n = 0;
  ASSERT_TRUE(topn::ParseLine("word\t42", &key, &n));
  EXPECT_EQ(key, "word");
  EXPECT_EQ(n, 42);
  ASSERT_TRUE(topn::ParseLine("a\tb\t-7", &key, &n));  // split at the last tab
  EXPECT_EQ(key, "a\tb");
  EXPECT_EQ(n, -7);
  ASSERT_TRUE(topn::ParseLine("\t007", &key, &n));
  EXPECT_EQ(key, "");
  EXPECT_EQ(n, 7);
  ASSERT_TRUE(topn::ParseLine("k\t9223372036854775807", &key, &n));
  EXPECT_EQ(n, INT64_MAX);
  ASSERT_TRUE(topn::ParseLine("k\t-9223372036854775808", &key, &n));
  EXPECT_EQ(n, INT64_MIN);
  for (const char* bad : {"", "word", "word 42", "word\t", "word\t4 2", "word\t 42", "word\t42 ", "word\t+42",
                          "word\t4.2", "word\t0x10", "word\t9223372036854775808", "word\t42\tx", "word\t-"}) {
    EXPECT_FALSE(topn::ParseLine(bad, &key, &n)) << bad;
  }
}

TEST(TopNTest, KeepsTheBestWithTiesByKey) {
  topn::TopN top(4);
  for (auto [n, k] : std::vector<std::pair<int64_t, std::string>>{
           {5, "e"}, {9, "b"}, {9, "a"}, {1, "z"}, {9, "c"}, {5, "d"}, {-3, "m"}, {9, "B"}, {7, "x"}}) {
    top.Offer(n, k);
  }
  std::vector<std::string> got;
  for (auto& e : top.TakeSorted()) got.push_back(fmt::format("{}={}", e.key, e.number));
  EXPECT_EQ(got, (std::vector<std::string>{"B=9", "a=9", "b=9", "c=9"}));
  EXPECT_EQ(top.size(), 0u);
}

// The job over several mappers equals sorting everything, on data with many ties and duplicates.
TEST(TopNTest, JobMatchesBruteForce) {
  std::mt19937 rng(3);
  std::vector<Piece> pieces;
  std::vector<std::pair<int64_t, std::string>> all;
  int malformed = 0;
  for (int p = 0; p < 5; p++) {
    Piece piece{fmt::format("/in/part-{}", p), ""};
    for (int i = 0; i < 400; i++) {
      if (rng() % 20 == 0) {
        piece.text += "not a number line\n";
        malformed++;
        continue;
      }
      int64_t n = static_cast<int64_t>(rng() % 30) - 5;
      std::string k = fmt::format("k{}", rng() % 50);
      piece.text += fmt::format("{}\t{}\n", k, n);
      all.emplace_back(n, k);
    }
    pieces.push_back(piece);
  }
  std::sort(all.begin(), all.end(),
            [](auto& a, auto& b) { return topn::RanksBefore(a.first, a.second, b.first, b.second); });
  for (int n : {1, 7, 100, 5000}) {
    auto job = MakeJob("topn", {{"n", std::to_string(n)}});
    ASSERT_TRUE(job.ok());
    MapCounters counters;
    std::string out = RunInProcess(**job, pieces, &counters);
    std::string expected;
    for (size_t i = 0; i < all.size() && i < static_cast<size_t>(n); i++) {
      expected += fmt::format("{}\t{}\n", all[i].second, all[i].first);
    }
    EXPECT_EQ(out, expected) << "n=" << n;
    EXPECT_EQ(counters.Get(kTopNMalformedCounter), malformed);
  }
}

TEST(TopNTest, OneReducerGetsEverything) {
  auto job = MakeJob("topn", {});
  ASSERT_TRUE(job.ok());
  auto partitioner = (*job)->NewPartitioner();
  ASSERT_NE(partitioner, nullptr);
  for (uint32_t r : {1u, 3u, 8u}) EXPECT_EQ(partitioner->Partition("top", r), 0u);
}

TEST(TopNTest, Arguments) {
  EXPECT_TRUE(MakeJob("topn", {{"n", "1"}}).ok());
  for (const char* bad : {"0", "-1", "ten", "", "10000001"}) {
    auto r = MakeJob("topn", {{"n", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--arg n="), std::string::npos);
  }
  EXPECT_FALSE(MakeJob("topn", {{"k", "3"}}).ok());
}

}  // namespace
}  // namespace mr
