// Planning at submit time: the input format resolved, a job's own planning (TeraSort's samples),
// and the splits the map tasks will read, made once.
#include "master/job_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "common/temp_dir_testing.h"

namespace mr {
namespace {

class JobPlanTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(JobPlanTest, ResolvesTheJobsInputFormatSamplesAndReturnsTheSplits) {
  std::string recs;
  for (int i = 0; i < 500; i++) recs += std::string(100, static_cast<char>(i % 256));
  std::ofstream(dir_.path() + "/r.bin") << recs;
  proto::JobSpec spec;
  spec.set_job("terasort");
  spec.set_reducers(4);
  spec.set_split_size(4096);
  auto files = ExpandInputs({dir_.path() + "/r.bin"});
  ASSERT_TRUE(files.ok());
  auto splits = PlanJob(&spec, *files);
  ASSERT_TRUE(splits.ok()) << splits.status().ToString();
  EXPECT_EQ(spec.input_format(), "records:100");
  // 4096-byte splits rounded down to whole records: 4000 bytes, the last one the rest.
  ASSERT_EQ(splits->size(), 13u);
  for (const Split& s : *splits) EXPECT_EQ(s.length % 100, 0u) << s.offset;
  EXPECT_EQ(splits->back().offset + splits->back().length, 50000u);
  EXPECT_EQ(std::count(spec.args().at("_cuts").begin(), spec.args().at("_cuts").end(), ','), 2);

  proto::JobSpec lines;
  lines.set_job("wordcount");
  lines.set_reducers(1);
  lines.set_split_size(4096);
  ASSERT_TRUE(PlanJob(&lines, *files).ok());
  EXPECT_EQ(lines.input_format(), "lines");

  proto::JobSpec bad = spec;
  bad.set_input_format("records:7");
  Status s = PlanJob(&bad, *files).status();
  EXPECT_NE(s.message().find("r.bin"), std::string::npos) << s.message();
  bad.set_input_format("records:x");
  EXPECT_EQ(PlanJob(&bad, *files).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace mr
