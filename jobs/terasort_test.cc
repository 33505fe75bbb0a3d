// The total-order partitioner: cut points from samples, skewed keys, and exactness (partitioning,
// then sorting each partition, equals sorting everything).
#include "jobs/terasort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "jobs/teragen.h"

namespace mr {
namespace {

std::string RandomKey(std::mt19937_64& rng, int alphabet = 256) {
  std::string k(kTeraKeyBytes, '\0');
  for (char& c : k) c = static_cast<char>(rng() % alphabet);
  return k;
}

// Partitions `keys`, sorts each partition, concatenates: must equal sorting all of them, and
// every key must land in exactly one partition. Returns the partition sizes.
std::vector<size_t> CheckTotalOrder(const std::vector<std::string>& keys, uint32_t reducers) {
  auto cuts = PickCutPoints(keys, reducers);
  EXPECT_LE(cuts.size(), reducers - 1);
  auto decoded = DecodeCutPoints(EncodeCutPoints(cuts));
  EXPECT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, cuts);
  TotalOrderPartitioner p(*decoded);
  std::vector<std::vector<std::string>> parts(reducers);
  std::map<std::string, uint32_t> where;
  for (const auto& k : keys) {
    uint32_t i = p.Partition(k, reducers);
    EXPECT_LT(i, reducers);
    auto [it, fresh] = where.emplace(k, i);
    EXPECT_EQ(it->second, i) << "one key in two partitions";
    parts[i].push_back(k);
  }
  std::vector<std::string> all, sorted = keys;
  std::vector<size_t> sizes;
  for (auto& part : parts) {
    std::sort(part.begin(), part.end());
    all.insert(all.end(), part.begin(), part.end());
    sizes.push_back(part.size());
  }
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(all, sorted);
  return sizes;
}

TEST(TeraSortTest, UniformKeysWithEveryByteValueAreBalanced) {
  std::mt19937_64 rng(1);
  std::vector<std::string> keys;
  for (int i = 0; i < 20000; i++) keys.push_back(RandomKey(rng));
  auto sizes = CheckTotalOrder(keys, 7);
  for (size_t s : sizes) EXPECT_NEAR(static_cast<double>(s), 20000 / 7.0, 20000 / 7.0 * 0.05);
}

TEST(TeraSortTest, AllEqualKeysGoToOneReducer) {
  for (char c : {'\0', '\n', 'A', '\xff'}) {
    std::vector<std::string> keys(5000, std::string(kTeraKeyBytes, c));
    auto sizes = CheckTotalOrder(keys, 4);
    EXPECT_EQ(*std::max_element(sizes.begin(), sizes.end()), 5000u);
  }
}

TEST(TeraSortTest, HeavySkewStillSplitsTheRest) {
  std::mt19937_64 rng(2);
  std::vector<std::string> keys(9000, std::string(kTeraKeyBytes, 'M'));
  for (int i = 0; i < 9000; i++) keys.push_back(RandomKey(rng));
  auto sizes = CheckTotalOrder(keys, 6);
  // The 9000 'M' keys (with whatever random keys fall between the cuts around them) in one
  // partition; the other 9000 keys spread over the others.
  size_t biggest = *std::max_element(sizes.begin(), sizes.end());
  EXPECT_GE(biggest, 9000u);
  EXPECT_LE(biggest, 9000u + 9000u / 5 * 2);
  EXPECT_GE(std::count_if(sizes.begin(), sizes.end(), [](size_t s) { return s > 500; }), 5);
}

TEST(TeraSortTest, LongSharedPrefixes) {
  std::mt19937_64 rng(3);
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; i++) {
    std::string k(kTeraKeyBytes, '\0');  // 8 shared NUL bytes, then two random ones
    k[8] = static_cast<char>(rng() % 256);
    k[9] = static_cast<char>(rng() % 4);
    keys.push_back(k);
  }
  auto sizes = CheckTotalOrder(keys, 5);
  for (size_t s : sizes) EXPECT_GT(s, 1000u);
  std::vector<std::string> newlines;
  for (int i = 0; i < 3000; i++) newlines.push_back(std::string(9, '\n') + static_cast<char>(rng() % 3));
  CheckTotalOrder(newlines, 3);
}

TEST(TeraSortTest, FewerSamplesThanReducers) {
  CheckTotalOrder({"b", "a"}, 8);
  CheckTotalOrder({}, 3);
  EXPECT_TRUE(PickCutPoints({"a", "b"}, 1).empty());
}

TEST(TeraSortTest, ArgumentsAreChecked) {
  EXPECT_FALSE(MakeTeraSort({{"_cuts", "zz"}}).ok());
  EXPECT_FALSE(MakeTeraSort({{"_cuts", "02,01"}}).ok());  // not increasing
  EXPECT_FALSE(MakeTeraSort({{"pattern", "x"}}).ok());
  auto job = MakeTeraSort({{"_cuts", "0a,0b"}});
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)->InputFormat(), "records:100");
  EXPECT_TRUE((*job)->RawOutput());
}

TEST(TeraGenTest, GensortLayout) {
  char rec[100];
  TeraGenRecord(0x1234, false, rec);
  EXPECT_EQ(rec[10], '\x00');
  EXPECT_EQ(rec[11], '\x11');
  EXPECT_EQ(std::string(rec + 12, 32), "00000000000000000000000000001234");
  EXPECT_EQ(std::string(rec + 44, 4), "\x88\x99\xAA\xBB");
  EXPECT_EQ(std::string(rec + 96, 4), "\xCC\xDD\xEE\xFF");
  TeraGenRecord(0x1234, true, rec);
  for (int i = 0; i < 10; i++) EXPECT_TRUE(rec[i] >= ' ' && rec[i] <= '~');
  EXPECT_EQ(std::string(rec + 10, 2), "  ");
  EXPECT_EQ(std::string(rec + 12, 32), "00000000000000000000000000001234");
  EXPECT_EQ(std::string(rec + 98, 2), "\r\n");
  EXPECT_EQ(std::count(rec, rec + 100, '\n'), 1);
}

}  // namespace
}  // namespace mr
