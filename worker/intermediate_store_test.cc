#include "worker/intermediate_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/record.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

std::string Values(std::initializer_list<std::string_view> vs) {
  std::string out;
  for (auto v : vs) PutLengthPrefixed(&out, v);
  return out;
}

std::vector<std::pair<std::string, std::string>> ReadAll(IntermediateStore* store, MapOutputId id, uint32_t p,
                                                         size_t chunk = 1 << 20) {
  std::vector<std::pair<std::string, std::string>> out;
  auto reader = store->ReadPartition(id, p);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  while (true) {
    std::string records;
    auto more = (*reader)->NextChunk(&records, chunk);
    EXPECT_TRUE(more.ok());
    RecordReader rr(records);
    std::string_view k, v;
    while (rr.Next(&k, &v)) out.emplace_back(k, v);
    if (!more.ok() || !*more) break;
  }
  return out;
}

TEST(IntermediateStoreTest, SpillsMergeInKeyOrderPerPartition) {
  TempDir tmp;
  fs::path dir = tmp.path() + "/store";
  auto store = IntermediateStore::Open(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  MapOutputId id{7, 3, 1};
  // Two spills holding an overlapping key, and a key with a NUL byte.
  auto w1 = (*store)->NewRun(id, 0);
  ASSERT_TRUE(w1->Add(0, "apple", Values({"1"})).ok());
  ASSERT_TRUE(w1->Add(0, "pear", Values({"2", "3"})).ok());
  ASSERT_TRUE(w1->Add(1, "zebra", Values({"4"})).ok());
  ASSERT_TRUE(w1->Finish().ok());
  auto w2 = (*store)->NewRun(id, 1);
  ASSERT_TRUE(w2->Add(0, std::string("app\0le", 6), Values({"5"})).ok());
  ASSERT_TRUE(w2->Add(0, "pear", Values({"6"})).ok());
  ASSERT_TRUE(w2->Finish().ok());

  // Not served before the attempt is marked complete.
  EXPECT_FALSE((*store)->ReadPartition(id, 0).ok());
  ASSERT_TRUE((*store)->MarkMapOutputComplete(id).ok());

  auto p0 = ReadAll(store->get(), id, 0, /*chunk=*/1);  // one record per chunk
  std::vector<std::pair<std::string, std::string>> want = {
      {std::string("app\0le", 6), "5"}, {"apple", "1"}, {"pear", "2"}, {"pear", "3"}, {"pear", "6"}};
  EXPECT_EQ(p0, want);
  EXPECT_EQ(ReadAll(store->get(), id, 1).size(), 1u);
  EXPECT_TRUE(ReadAll(store->get(), id, 2).empty());

  ASSERT_TRUE((*store)->DropJob(7).ok());
  EXPECT_FALSE((*store)->HasMapOutput(id));
  store->reset();
}

// Small spills go through a write batch, large ones through an ingested file, and one that grows
// past the threshold mid-way moves what it held into its file: all read back the same, also after
// the store is reopened (a restarted worker), and a job's drop removes them all.
TEST(IntermediateStoreTest, SmallAndLargeSpillsReadBackAndSurviveAReopen) {
  TempDir tmp;
  fs::path dir = tmp.path() + "/store";
  auto store = IntermediateStore::Open(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string big(64 << 10, 'x');
  const uint32_t records[] = {3, 40};  // 3 x 64 KiB: a batch; 40 x 64 KiB (over 1 MiB): a file
  for (uint32_t m = 0; m < 2; m++) {
    auto w = (*store)->NewRun({9, m, 1}, 0);
    for (uint32_t i = 0; i < records[m]; i++) {
      char key[8];
      std::snprintf(key, sizeof key, "k%04u", i);
      ASSERT_TRUE(w->AddRecord(2 * i >= records[m] ? 1 : 0, key, big).ok());  // partition 0, then 1
    }
    auto bytes = w->Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_GE(*bytes, records[m] * big.size());
    ASSERT_TRUE((*store)->MarkMapOutputComplete({9, m, 1}).ok());
  }
  for (int round = 0; round < 2; round++) {
    for (uint32_t m = 0; m < 2; m++) {
      auto p0 = ReadAll(store->get(), {9, m, 1}, 0);
      auto p1 = ReadAll(store->get(), {9, m, 1}, 1);
      EXPECT_EQ(p0.size() + p1.size(), records[m]) << "map " << m << " round " << round;
      ASSERT_FALSE(p1.empty());
      EXPECT_EQ(p1.back().second, big);
      EXPECT_TRUE(std::is_sorted(p0.begin(), p0.end()));
    }
    store->reset();
    store = IntermediateStore::Open(dir.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  auto held = (*store)->ListMapOutputs();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 2u);
  ASSERT_TRUE((*store)->DropJob(9).ok());
  auto jobs = (*store)->ListJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
  EXPECT_FALSE((*store)->HasMapOutput({9, 0, 1}));
  EXPECT_FALSE((*store)->ReadPartition({9, 1, 1}, 1).ok());
  store->reset();
}

}  // namespace
}  // namespace mr
