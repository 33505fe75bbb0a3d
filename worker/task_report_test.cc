#include "worker/task_report.h"

#include <gtest/gtest.h>

#include "jobs/attempt_log.h"
#include "worker/counters.h"

namespace mr {
namespace {

proto::Envelope Wrap(const proto::TaskReport& r) {
  proto::Envelope e;
  *e.mutable_task_report() = r;
  return e;
}

TEST(TaskReportTest, ASmallReportIsLeftAlone) {
  proto::TaskReport r;
  r.set_ok(false);
  r.set_error("boom");
  (*r.mutable_counters())[counter::kMapInputRecords] = 3;
  r.set_log("line\n");
  proto::TaskReport before = r;
  EXPECT_EQ(BoundTaskReport(&r), "");
  EXPECT_EQ(r.SerializeAsString(), before.SerializeAsString());
}

// Counters a job names without limit would make a report bigger than a frame: it is cut to fit,
// built-in counters kept, and says what it cut.
TEST(TaskReportTest, CountersBeyondAFrameAreCutAndCounted) {
  proto::TaskReport r;
  r.set_ok(true);
  (*r.mutable_counters())[counter::kMapInputRecords] = 7;
  (*r.mutable_counters())["z.user"] = 1;
  for (int i = 0; i < 2000; i++) (*r.mutable_counters())["user." + std::to_string(i)] = i;
  const std::string long_name(1000, 'n');  // too long for any report
  for (int i = 0; i < 70000; i++) (*r.mutable_counters())[long_name + std::to_string(i)] = 1;
  ASSERT_GT(EncodeFrame(Wrap(r)).size(), kDefaultMaxFrame);
  std::string cut = BoundTaskReport(&r);
  EXPECT_NE(cut.find("counters"), std::string::npos) << cut;
  EXPECT_LE(EncodeFrame(Wrap(r)).size(), kMaxReportBytes + 64);
  EXPECT_LE(static_cast<size_t>(r.counters_size()), kReportCounters + 1);
  EXPECT_EQ(r.counters().at(counter::kMapInputRecords), 7);
  EXPECT_EQ(r.counters().at(counter::kReportCountersDropped), 70000 + 2002 - static_cast<int64_t>(kReportCounters));
  EXPECT_FALSE(r.counters().contains("z.user")) << "kept in name order: z comes last";
}

TEST(TaskReportTest, HugeErrorLogAndFetchListsAreBounded) {
  proto::TaskReport r;
  r.set_ok(false);
  r.set_error(std::string(10 << 20, 'e'));
  r.set_log(std::string(1 << 20, 'l') + "newest");
  r.set_user_stderr(std::string(1 << 20, 's') + "last words");
  for (uint32_t i = 0; i < 50000; i++) {
    r.add_failed_maps(i);
    auto* f = r.add_failed_fetches();
    f->set_map_index(i);
    f->set_address("10.0.0.1:7000");
  }
  std::string cut = BoundTaskReport(&r);
  EXPECT_NE(cut.find("error of 10485760 bytes"), std::string::npos) << cut;
  EXPECT_NE(cut.find("80000 failed fetches"), std::string::npos) << cut;
  EXPECT_LE(r.error().size(), kReportErrorBytes + 64);
  EXPECT_TRUE(r.error().starts_with("eeee"));
  EXPECT_TRUE(r.log().ends_with("newest"));
  EXPECT_TRUE(r.user_stderr().ends_with("last words"));
  EXPECT_TRUE(r.stderr_truncated());
  EXPECT_EQ(static_cast<size_t>(r.failed_maps_size()), kReportFailedFetches);
  EXPECT_EQ(static_cast<size_t>(r.failed_fetches_size()), kReportFailedFetches);
}

// With a small enough limit, the biggest fields go until the report fits.
TEST(TaskReportTest, StillTooBigLosesTheBiggestFields) {
  proto::TaskReport r;
  r.set_ok(false);
  r.set_error(std::string(3000, 'e'));
  r.set_log(std::string(60000, 'l'));
  for (int i = 0; i < 500; i++) (*r.mutable_counters())["user." + std::to_string(i)] = i;
  std::string cut = BoundTaskReport(&r, 1024);
  EXPECT_LE(r.ByteSizeLong(), 1024u) << cut;
  EXPECT_NE(cut.find("the attempt log and stderr"), std::string::npos) << cut;
  EXPECT_FALSE(r.error().empty());
}

}  // namespace
}  // namespace mr
