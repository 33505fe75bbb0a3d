#include "common/hash.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

// Published FNV-1a 64 test vectors: the hash must never change, or data partitioned by one
// version of mr would be read wrongly by another.
TEST(StableHashTest, MatchesFnv1a64Vectors) {
  EXPECT_EQ(StableHash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(StableHash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(StableHash("foobar"), 0x85944171f73967e8ull);
}

TEST(StableHashTest, PartitionsArePinned) {
  // Pinned values: a change here breaks compatibility between versions.
  EXPECT_EQ(PartitionOf("the", 5), StableHash("the") % 5);
  EXPECT_EQ(PartitionOf("a", 7), 0xaf63dc4c8601ec8cull % 7);
  EXPECT_EQ(PartitionOf("anything", 1), 0u);
  static_assert(StableHash("foobar") == 0x85944171f73967e8ull, "usable at compile time");
}

TEST(StableHashTest, BytesAboveAsciiHashAsUnsigned) {
  // 0xff must be hashed as 255, not as a sign-extended char.
  uint64_t h = (kFnvOffset ^ 0xffu) * kFnvPrime;
  EXPECT_EQ(StableHash("\xff"), h);
}

}  // namespace
}  // namespace mr
