#include "jobs/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/hash.h"

namespace mr {
namespace {

uint64_t H(uint64_t i) { return MixHash(i * 0x9e3779b97f4a7c15ull + 1); }

TEST(DistinctSketchTest, ExactWhileSmall) {
  DistinctSketch s;
  for (int round = 0; round < 3; round++) {
    for (uint64_t i = 0; i < DistinctSketch::kExactLimit; i++) s.Add(H(i));
  }
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.Estimate(), DistinctSketch::kExactLimit);
  s.Add(H(1000));
  EXPECT_FALSE(s.exact());
  EXPECT_NEAR(static_cast<double>(s.Estimate()), 65.0, 2.0);  // linear counting is near exact here
}

TEST(DistinctSketchTest, EstimateWithinTheStatedError) {
  // 1.6% standard error: allow 4 sigma on each of these deterministic inputs.
  for (uint64_t n : {1000u, 20000u, 300000u}) {
    DistinctSketch s;
    for (uint64_t i = 0; i < n; i++) s.Add(H(i + n * 7));
    double err = std::abs(static_cast<double>(s.Estimate()) - n) / n;
    EXPECT_LT(err, 4 * 0.01625) << n;
  }
}

TEST(DistinctSketchTest, MergeIsTheSketchOfTheUnionAndEncodingRoundTrips) {
  DistinctSketch a, b, all;
  for (uint64_t i = 0; i < 5000; i++) {
    (i % 3 == 0 ? a : b).Add(H(i));
    if (i % 5 == 0) a.Add(H(i));  // overlap
    all.Add(H(i));
  }
  DistinctSketch small;
  for (uint64_t i = 0; i < 10; i++) small.Add(H(i));
  a.Merge(b);
  a.Merge(small);
  EXPECT_EQ(a.Estimate(), all.Estimate());
  DistinctSketch sparse;
  for (uint64_t i = 0; i < 200; i++) sparse.Add(H(i + 99999));
  EXPECT_FALSE(sparse.exact());
  for (const DistinctSketch* s : {&a, &small, &sparse}) {
    std::string enc;
    s->Encode(&enc);
    enc += "rest";
    std::string_view in = enc;
    DistinctSketch back;
    ASSERT_TRUE(DistinctSketch::Decode(&in, &back));
    EXPECT_EQ(in, "rest");
    EXPECT_EQ(back.Estimate(), s->Estimate());
    if (s == &sparse) {
      EXPECT_LT(enc.size(), 1000u);  // not 4 KiB
    }
  }
  std::string_view bad = "E\x05xx";
  DistinctSketch junk;
  EXPECT_FALSE(DistinctSketch::Decode(&bad, &junk));
}

}  // namespace
}  // namespace mr
