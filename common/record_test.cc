#include "common/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace mr {
namespace {

TEST(RecordTest, RunRoundTrip) {
  std::string run;
  AppendRecord(&run, "a", "1");
  AppendRecord(&run, std::string("\0b", 2), std::string(300, 'v'));
  AppendRecord(&run, "", "");
  RecordReader r(run);
  std::string_view k, v;
  ASSERT_TRUE(r.Next(&k, &v));
  EXPECT_EQ(k, "a");
  ASSERT_TRUE(r.Next(&k, &v));
  EXPECT_EQ(k, std::string("\0b", 2));
  EXPECT_EQ(v.size(), 300u);
  ASSERT_TRUE(r.Next(&k, &v));
  EXPECT_TRUE(k.empty());
  EXPECT_FALSE(r.Next(&k, &v));
  EXPECT_FALSE(r.corrupt());
}

TEST(RecordTest, TruncatedRunIsCorrupt) {
  std::string run;
  AppendRecord(&run, "key", "value");
  run.pop_back();
  RecordReader r(run);
  std::string_view k, v;
  EXPECT_FALSE(r.Next(&k, &v));
  EXPECT_TRUE(r.corrupt());
}

TEST(RecordTest, OrderedKeysSortLikeTheirKeys) {
  std::mt19937 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; i++) {
    std::string k;
    int n = rng() % 5;
    for (int j = 0; j < n; j++) k.push_back(static_cast<char>("\x00\x01\xff" "ab"[rng() % 5]));
    keys.push_back(k);
  }
  std::vector<std::string> encoded;
  for (auto& k : keys) {
    std::string e;
    AppendOrderedKey(&e, k);
    PutFixed32BE(&e, rng());  // a suffix must not disturb the order of different keys
    encoded.push_back(e);
  }
  for (size_t i = 0; i + 1 < keys.size(); i++) {
    if (keys[i] == keys[i + 1]) continue;
    EXPECT_EQ(keys[i] < keys[i + 1], encoded[i] < encoded[i + 1]) << i;
  }
  for (size_t i = 0; i < keys.size(); i++) {
    std::string_view in = encoded[i];
    std::string decoded;
    ASSERT_TRUE(GetOrderedKey(&in, &decoded));
    EXPECT_EQ(decoded, keys[i]);
    EXPECT_EQ(in.size(), 4u);
  }
}

}  // namespace
}  // namespace mr
