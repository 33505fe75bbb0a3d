#include "worker/intermediate_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

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

// The records in a chunk of blocks (each checked).
std::string Records(std::string_view blocks) {
  auto records = DecodeBlocks(blocks);
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return records.ok() ? *records : "";
}

std::vector<std::pair<std::string, std::string>> ReadAll(IntermediateStore* store, MapOutputId id, uint32_t p,
                                                         size_t chunk = 1 << 20, Codec codec = Codec::kLz4) {
  std::vector<std::pair<std::string, std::string>> out;
  auto reader = store->ReadPartition(id, p, codec);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  while (true) {
    std::string blocks;
    auto more = (*reader)->NextChunk(&blocks, chunk);
    EXPECT_TRUE(more.ok());
    std::string records = Records(blocks);
    RecordReader rr(records);
    std::string_view k, v;
    while (rr.Next(&k, &v)) out.emplace_back(k, v);
    if (!more.ok() || !*more) break;
  }
  return out;
}

class IntermediateStoreCodecTest : public testing::TestWithParam<Codec> {};
INSTANTIATE_TEST_SUITE_P(EachCodec, IntermediateStoreCodecTest, testing::Values(Codec::kNone, Codec::kLz4, Codec::kZstd),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST_P(IntermediateStoreCodecTest, SpillsMergeInKeyOrderPerPartition) {
  const Codec codec = GetParam();
  TempDir tmp;
  fs::path dir = tmp.path() + "/store";
  auto store = IntermediateStore::Open(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  MapOutputId id{7, 3, 1};
  // Two spills holding an overlapping key, and a key with a NUL byte.
  auto w1 = (*store)->NewRun(id, 0, codec);
  ASSERT_TRUE(w1->Add(0, "apple", Values({"1"})).ok());
  ASSERT_TRUE(w1->Add(0, "pear", Values({"2", "3"})).ok());
  ASSERT_TRUE(w1->Add(1, "zebra", Values({"4"})).ok());
  ASSERT_TRUE(w1->Finish().ok());
  auto w2 = (*store)->NewRun(id, 1, codec);
  ASSERT_TRUE(w2->Add(0, std::string("app\0le", 6), Values({"5"})).ok());
  ASSERT_TRUE(w2->Add(0, "pear", Values({"6"})).ok());
  ASSERT_TRUE(w2->Finish().ok());

  // Not served before the attempt is marked complete.
  EXPECT_FALSE((*store)->ReadPartition(id, 0, codec).ok());
  ASSERT_TRUE((*store)->MarkMapOutputComplete(id).ok());

  auto p0 = ReadAll(store->get(), id, 0, /*chunk=*/1, codec);  // one block per chunk
  std::vector<std::pair<std::string, std::string>> want = {
      {std::string("app\0le", 6), "5"}, {"apple", "1"}, {"pear", "2"}, {"pear", "3"}, {"pear", "6"}};
  EXPECT_EQ(p0, want);
  EXPECT_EQ(ReadAll(store->get(), id, 1, 1 << 20, codec).size(), 1u);
  EXPECT_TRUE(ReadAll(store->get(), id, 2, 1 << 20, codec).empty());

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
    auto w = (*store)->NewRun({9, m, 1}, 0, Codec::kLz4);
    for (uint32_t i = 0; i < records[m]; i++) {
      char key[8];
      std::snprintf(key, sizeof key, "k%04u", i);
      ASSERT_TRUE(w->AddRecord(2 * i >= records[m] ? 1 : 0, key, big).ok());  // partition 0, then 1
    }
    auto bytes = w->Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_LT(*bytes, records[m] * big.size() / 10);  // compressed
    EXPECT_EQ(w->raw_bytes(), records[m] * (1 + 5 + 3 + big.size()));  // varint, key, varint, value
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
  EXPECT_FALSE((*store)->ReadPartition({9, 1, 1}, 1, Codec::kLz4).ok());
  store->reset();
}

// A flipped bit in a stored spill never reaches a reducer as records: a partition merged from
// several spills fails on the worker, and one served as stored fails the reducer's check.
TEST(IntermediateStoreTest, AFlippedBitOnDiskFailsTheRead) {
  TempDir tmp;
  fs::path dir = tmp.path() + "/store";
  auto store = IntermediateStore::Open(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::mt19937 gen(3);
  std::string noise(64 << 10, '\0');  // does not compress: values fill the files
  for (uint32_t m = 0; m < 2; m++) {
    for (uint32_t spill = 0; spill <= m; spill++) {  // map 0: one spill; map 1: two
      auto w = (*store)->NewRun({5, m, 1}, spill, Codec::kLz4);
      for (int i = 0; i < 40; i++) {
        for (char& c : noise) c = static_cast<char>(gen());
        ASSERT_TRUE(w->AddRecord(0, "k" + std::to_string(1000 + i), noise).ok());
      }
      ASSERT_TRUE(w->Finish().ok());
    }
    ASSERT_TRUE((*store)->MarkMapOutputComplete({5, m, 1}).ok());
  }
  store->reset();
  int flipped = 0;
  for (const auto& e : fs::directory_iterator(dir / "shuffle.db")) {
    if (e.path().extension() != ".sst") continue;
    std::FILE* f = std::fopen(e.path().c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    long middle = static_cast<long>(fs::file_size(e.path()) / 2);
    std::fseek(f, middle, SEEK_SET);
    int c = std::fgetc(f);
    std::fseek(f, middle, SEEK_SET);
    std::fputc(c ^ 0x04, f);
    std::fclose(f);
    flipped++;
  }
  ASSERT_EQ(flipped, 3);
  store = IntermediateStore::Open(dir.string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (uint32_t m = 0; m < 2; m++) {
    auto reader = (*store)->ReadPartition({5, m, 1}, 0, Codec::kLz4);
    Status failed = reader.status();
    for (bool more = reader.ok(); more && failed.ok();) {
      std::string blocks;
      auto next = (*reader)->NextChunk(&blocks, 1 << 20);
      if (!next.ok()) {
        failed = next.status();
        break;
      }
      more = *next;
      failed = DecodeBlocks(blocks).status();
    }
    EXPECT_EQ(failed.code(), Status::Code::kCorruption) << "map " << m << ": " << failed.ToString();
  }
  store->reset();
}

}  // namespace
}  // namespace mr
