// The journal on a real RocksDB: a combined split plan and job ids survive a reopen, so a
// restarted master resumes with the same splits and never reuses an id.
#include "master/journal.h"

#include <gtest/gtest.h>


#include <filesystem>

#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

TEST(JournalTest, ACombinedPlanAndJobIdsSurviveAReopen) {
  TempDir tmp;
  fs::path dir = tmp.path();
  proto::JobPlan plan;
  proto::InputSplit* whole = plan.add_splits();
  whole->set_path("/big");
  whole->set_length(64);
  whole->set_file_size(100);
  proto::InputSplit* combined = plan.add_splits();
  for (const char* f : {"/a", "/b\tc", "/d"}) {
    proto::InputSplit* part = combined->add_parts();
    part->set_path(f);
    part->set_length(3);
    part->set_file_size(3);
  }
  uint64_t first = 0;
  {
    auto j = Journal::Open(dir.string());
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    auto id = (*j)->NextJobId();
    ASSERT_TRUE(id.ok());
    first = *id;
    ASSERT_TRUE((*j)->PutPlan(first, plan).ok());
  }
  auto j = Journal::Open(dir.string());
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  auto loaded = (*j)->LoadPlan(first);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->SerializeAsString(), plan.SerializeAsString());
  EXPECT_EQ(loaded->splits(1).parts(1).path(), "/b\tc");
  auto next = (*j)->NextJobId();
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, first);
  ASSERT_TRUE((*j)->DropTasks(first).ok());
  EXPECT_EQ((*j)->LoadPlan(first).status().code(), Status::Code::kNotFound);
  j->reset();
}

// Files shipped with jobs are kept once per digest, their bytes counted (for the master's bound on
// them), dropped when no job needs them, and counted again after a reopen.
TEST(JournalTest, ShippedFilesAreKeptOnceCountedAndDropped) {
  TempDir tmp;
  {
    auto j = Journal::Open(tmp.path());
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    ASSERT_TRUE((*j)->PutFile("aa", "12345").ok());
    ASSERT_TRUE((*j)->PutFile("aa", "12345").ok());  // a second job shipping the same bytes
    ASSERT_TRUE((*j)->PutFile("bb", "123").ok());
    EXPECT_EQ((*j)->FileBytes(), 8u);
    EXPECT_EQ(*(*j)->LoadFile("aa"), "12345");
    ASSERT_TRUE((*j)->DropFilesExcept({"bb"}).ok());
    EXPECT_EQ((*j)->FileBytes(), 3u);
    EXPECT_EQ((*j)->LoadFile("aa").status().code(), Status::Code::kNotFound);
  }
  auto j = Journal::Open(tmp.path());
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->FileBytes(), 3u);
  EXPECT_EQ(*(*j)->LoadFile("bb"), "123");
}

}  // namespace
}  // namespace mr
