// The Scheduler's compact task state (master/scheduler_compact.h): what goes in comes out the same.
#include "master/scheduler_compact.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

namespace mr {
namespace {

TEST(NamePoolTest, EachNameOnceAndZeroIsEmpty) {
  NamePool p;
  EXPECT_EQ(p.Intern(""), 0u);
  uint32_t a = p.Intern("10.0.0.1:7000");
  EXPECT_NE(a, 0u);
  EXPECT_EQ(p.Intern("10.0.0.2:7000"), a + 1);
  EXPECT_EQ(p.Intern("10.0.0.1:7000"), a);
  EXPECT_EQ(p[a], "10.0.0.1:7000");
  EXPECT_EQ(p[0], "");
  EXPECT_EQ(p.size(), 3u);
}

TEST(SplitTableTest, SplitsComeBackAsPlannedWithOneCopyOfEachPath) {
  proto::JobPlan plan;
  for (int i = 0; i < 1000; i++) {
    proto::InputSplit* s = plan.add_splits();
    s->set_path("/data/some/rather/long/input/path/file-" + std::to_string(i % 3) + ".txt");
    s->set_offset(uint64_t{4096} * (i / 3));
    s->set_length(i % 7 == 0 ? 100 : 4096);
    s->set_file_size(1u << 30);
  }
  proto::InputSplit* combined = plan.add_splits();  // small files packed into one split
  for (int i = 0; i < 3; i++) {
    proto::InputSplit* p = combined->add_parts();
    p->set_path("/small/" + std::to_string(i));
    p->set_length(10 + i);
    p->set_file_size(10 + i);
  }
  plan.add_splits();  // an empty one
  const proto::JobPlan copy = plan;
  SplitTable t(&plan);
  EXPECT_EQ(plan.splits_size(), 0);
  ASSERT_EQ(t.size(), static_cast<size_t>(copy.splits_size()));
  for (int i = 0; i < copy.splits_size(); i++) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(t.Get(i), copy.splits(i))) << i;
  }
  // Rows of (file, offset, length), not a path per split.
  EXPECT_LT(t.Bytes(), copy.splits_size() * 48u);
}

}  // namespace
}  // namespace mr
