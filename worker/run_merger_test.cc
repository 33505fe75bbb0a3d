// The loser-tree merge against std::stable_sort, over many runs (including empty ones and runs
// of equal keys): same records, ties in run order. The multi-pass merge (MergeToFactor, then a
// final RunMerger) against the single-pass merge of the same runs, for many runs and small factors.
#include "worker/run_merger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/record.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

// Writes `records` (a record run) as a run file of blocks of a few KiB each, of one codec or
// another (as intermediate runs and fetched map outputs are); returns the record bytes.
uint64_t WriteRun(const std::string& path, std::string_view records, int r) {
  const Codec codecs[] = {Codec::kLz4, Codec::kNone, Codec::kZstd};
  RunFileWriter w;
  EXPECT_TRUE(w.Open(path, 4096, codecs[r % 3]).ok());
  RecordReader rr(records);
  std::string_view k, v;
  while (rr.Next(&k, &v)) w.Append(k, v);
  EXPECT_TRUE(w.Close().ok());
  return w.bytes();
}

TEST(RunMergerTest, MergesLikeAStableSort) {
  TempDir tmp;
  fs::path dir = tmp.path();
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
      EXPECT_EQ(WriteRun(path, run, r), run.size());
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
}

// Writes `k` sorted runs of random records (few distinct keys, so many ties) into dir.
std::vector<std::string> WriteRandomRuns(const fs::path& dir, int k, std::mt19937_64& rng, uint64_t* bytes) {
  std::vector<std::string> paths;
  for (int r = 0; r < k; r++) {
    std::vector<std::string> keys(rng() % 40);
    for (auto& key : keys) {
      key.resize(rng() % 4);
      for (char& c : key) c = static_cast<char>(rng() % 6);  // bytes, NUL included
    }
    std::sort(keys.begin(), keys.end());
    std::string run;
    for (size_t i = 0; i < keys.size(); i++) AppendRecord(&run, keys[i], std::to_string(r) + ":" + std::to_string(i));
    std::string path = (dir / ("run-" + std::to_string(r))).string();
    *bytes += WriteRun(path, run, r);
    paths.push_back(path);
  }
  return paths;
}

std::vector<std::pair<std::string, std::string>> MergeAll(const std::vector<std::string>& runs) {
  RunMerger merger;
  for (auto& r : runs) EXPECT_TRUE(merger.Add(r, 64).ok());
  std::vector<std::pair<std::string, std::string>> got;
  while (!merger.empty()) {
    got.emplace_back(merger.top_key(), merger.top_value());
    EXPECT_TRUE(merger.Pop().ok());
  }
  return got;
}

// A run file with a flipped bit, or cut inside a block, fails the merge with Corruption: its
// records never come out changed.
TEST(RunMergerTest, ADamagedRunFileFailsTheMerge) {
  TempDir tmp;
  std::string records;
  for (int i = 0; i < 3000; i++) AppendRecord(&records, "key" + std::to_string(100000 + i), "value of " + std::to_string(i));
  for (int damage = 0; damage < 2; damage++) {
    std::string path = tmp.path() + "/run-" + std::to_string(damage);
    WriteRun(path, records, 0);
    if (damage == 0) {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(fs::file_size(path) / 2));
      char c = static_cast<char>(f.get());
      f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
      f.put(static_cast<char>(c ^ 1));
    } else {
      fs::resize_file(path, fs::file_size(path) - 3);
    }
    RunMerger merger;
    Status s = merger.Add(path, 64);
    int n = 0;
    while (s.ok() && !merger.empty() && n < 10000) {
      EXPECT_EQ(merger.top_key(), "key" + std::to_string(100000 + n));
      s = merger.Pop();
      n++;
    }
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
    EXPECT_LT(n, 3000);
  }
}

TEST(RunMergerTest, MultiPassMergeEqualsSinglePass) {
  TempDir tmp;
  fs::path dir = tmp.path() + "/runs";
  std::mt19937_64 rng(14);
  // (runs, factor): fewer runs than the factor, just above it, about factor², far beyond factor².
  for (auto [k, factor] : std::vector<std::pair<int, int>>{{5, 8}, {9, 8}, {64, 8}, {70, 8}, {300, 2}, {600, 3},
                                                           {1000, 16}, {257, 16}}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    uint64_t total = 0;
    std::vector<std::string> runs = WriteRandomRuns(dir, k, rng, &total);
    auto expected = MergeAll(runs);
    MergePassStats stats;
    auto final_runs = MergeToFactor(runs, {factor, dir.string(), 1 << 20, nullptr}, &stats);
    ASSERT_TRUE(final_runs.ok()) << final_runs.status().ToString();
    EXPECT_LE(final_runs->size(), static_cast<size_t>(factor)) << k << " runs, factor " << factor;
    EXPECT_EQ(MergeAll(*final_runs), expected) << k << " runs, factor " << factor;
    EXPECT_EQ(stats.passes > 0, k > factor);
    // The runs that were merged are gone: what is left on disk is the final runs.
    size_t files = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
    EXPECT_EQ(files, final_runs->size());
    // Up to factor² runs, no record is rewritten twice.
    if (k <= factor * factor) {
      EXPECT_LE(stats.bytes, total) << k << " runs, factor " << factor;
    }
  }
}

TEST(RunMergerTest, MultiPassMergeRefusesAFactorBelowTwo) {
  auto r = MergeToFactor({"a", "b", "c"}, {1, "/nonexistent", 1 << 20, nullptr});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace mr
