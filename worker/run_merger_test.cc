// The loser-tree merge against std::stable_sort, over many runs (including empty ones and runs
// of equal keys): same records, ties in run order.
#include "worker/run_merger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/record.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

TEST(RunMergerTest, MergesLikeAStableSort) {
  fs::path dir = fs::temp_directory_path() / ("mr-merge-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937_64 rng(5);
  for (int k : {1, 2, 3, 7, 16, 33}) {
    std::vector<std::pair<std::string, std::string>> all;  // (key, "run:index") in run order
    RunMerger merger;
    for (int r = 0; r < k; r++) {
      std::vector<std::string> keys(rng() % 200);
      for (auto& key : keys) key = std::string(1 + rng() % 3, static_cast<char>('a' + rng() % 4));
      std::sort(keys.begin(), keys.end());
      std::string run;
      for (size_t i = 0; i < keys.size(); i++) {
        std::string v = std::to_string(r) + ":" + std::to_string(i);
        AppendRecord(&run, keys[i], v);
        all.emplace_back(keys[i], v);
      }
      std::string path = (dir / ("run-" + std::to_string(r))).string();
      std::ofstream(path) << run;
      ASSERT_TRUE(merger.Add(path, 64).ok());
    }
    std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::string, std::string>> got;
    while (!merger.empty()) {
      got.emplace_back(merger.top_key(), merger.top_value());
      ASSERT_TRUE(merger.Pop().ok());
    }
    EXPECT_EQ(got, all) << k << " runs";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mr
