// A map attempt over a real file into a real store: the output must not depend on the number of
// threads or on how often the buffer spilled.
#include "worker/map_task.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cstdlib>
#include <map>

#include "common/hash.h"
#include "common/record.h"
#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

// The records in a chunk of blocks (each checked).
std::string Records(std::string_view blocks) {
  auto records = DecodeBlocks(blocks);
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  return records.ok() ? *records : "";
}

std::map<std::pair<uint32_t, std::string>, int64_t> ReadCounts(IntermediateStore* store);

// (partition, key) -> summed value read back from the store.
std::map<std::pair<uint32_t, std::string>, int64_t> RunAndRead(const fs::path& file, uint64_t size, int threads,
                                                               uint64_t buffer, const std::string& dir,
                                                               CounterSet* counters) {
  auto store = IntermediateStore::Open(dir);
  EXPECT_TRUE(store.ok());
  proto::AssignTask t;
  t.set_job_id(1);
  t.set_kind(proto::TASK_MAP);
  t.set_index(0);
  t.set_attempt(1);
  t.set_job_name("wordcount");
  t.set_reducers(3);
  t.mutable_split()->set_path(file.string());
  t.mutable_split()->set_offset(0);
  t.mutable_split()->set_length(size);
  auto job = MakeJob("wordcount", {});
  auto r = RunMapTask(t, **job, store->get(), {threads, buffer, nullptr});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *counters = *r;
  return ReadCounts(store->get());
}

// (partition, key) -> summed value of map task 0 of job 1 (attempt 1), 3 reducers.
std::map<std::pair<uint32_t, std::string>, int64_t> ReadCounts(IntermediateStore* store) {
  std::map<std::pair<uint32_t, std::string>, int64_t> out;
  for (uint32_t p = 0; p < 3; p++) {
    auto reader = store->ReadPartition({1, 0, 1}, p, Codec::kLz4);
    EXPECT_TRUE(reader.ok());
    bool more = true;
    std::string prev;
    while (more) {
      std::string chunk;
      auto m = (*reader)->NextChunk(&chunk, 1 << 20);
      more = m.ok() && *m;
      std::string records = Records(chunk);
      RecordReader rr(records);
      std::string_view k, v;
      while (rr.Next(&k, &v)) {
        EXPECT_EQ(PartitionOf(k, 3), p);
        EXPECT_LE(prev, std::string(k));  // key order within the partition
        prev = std::string(k);
        out[{p, std::string(k)}] += std::stoll(std::string(v));
      }
    }
  }
  return out;
}

TEST(MapTaskTest, SameOutputWhateverTheThreadsAndSpills) {
  TempDir tmp;
  fs::path dir = tmp.path();
  fs::path file = dir / "in.txt";
  std::string text;
  for (int i = 0; i < 60000; i++) {
    // 30000 distinct letter-only words, so a 1 MiB buffer must spill several times.
    std::string w = "w";
    for (int n = i % 30000; n > 0; n /= 26) w.push_back(static_cast<char>('a' + n % 26));
    text += w + " lorem ipsum\n";
  }
  std::ofstream(file) << text;
  CounterSet c1, c2;
  auto one = RunAndRead(file, text.size(), 1, 256 << 20, (dir / "s1").string(), &c1);
  auto many = RunAndRead(file, text.size(), 4, 1 << 20, (dir / "s2").string(), &c2);
  EXPECT_EQ(one, many);
  EXPECT_EQ(one.at({PartitionOf("lorem", 3), "lorem"}), 60000);
  EXPECT_EQ(c1.values().at("map.input.records"), 60000);
  EXPECT_EQ(c2.values().at("map.input.records"), 60000);
  EXPECT_EQ(c1.values().at("map.output.records"), 60000 * 3);
  EXPECT_EQ(c1.values().at("spill.count"), 1);
  EXPECT_GT(c2.values().at("spill.count"), 1);
}

TEST(MapTaskTest, MissingInputFailsTheAttempt) {
  TempDir tmp;
  auto store = IntermediateStore::Open(tmp.path());
  proto::AssignTask t;
  t.set_reducers(1);
  t.mutable_split()->set_path("/nonexistent/file");
  t.mutable_split()->set_length(10);
  auto job = MakeJob("wordcount", {});
  auto r = RunMapTask(t, **job, store->get(), {});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/file"), std::string::npos);
}

// Fixed-length records reach the mapper whole (any byte values, newlines too); a file that is not
// a whole number of records fails the attempt with an error naming it.
TEST(MapTaskTest, RecordsInputFormat) {
  TempDir tmp;
  fs::path dir = tmp.path();
  std::string recs;
  for (int i = 0; i < 20000; i++) {  // enough to sort by buckets (4096 or more records)
    std::string r(100, '\n');
    r[0] = static_cast<char>(255 - i % 256);
    r[1] = static_cast<char>(i / 256 % 3);  // many equal keys: their order is the input order
    r[50] = static_cast<char>(i % 251);
    recs += r;
  }
  std::ofstream(dir / "r.bin") << recs;
  auto store = IntermediateStore::Open((dir / "s").string());
  ASSERT_TRUE(store.ok());
  proto::AssignTask t;
  t.set_job_id(1);
  t.set_attempt(1);
  t.set_reducers(1);
  t.set_input_format("records:100");
  t.mutable_split()->set_path((dir / "r.bin").string());
  t.mutable_split()->set_offset(100 * 100);
  t.mutable_split()->set_length(100 * 15000);
  auto job = MakeJob("terasort", {});
  auto r = RunMapTask(t, **job, store->get(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->values().at("map.input.records"), 15000);
  auto reader = (*store)->ReadPartition({1, 0, 1}, 0, Codec::kLz4);
  ASSERT_TRUE(reader.ok());
  std::string chunk;
  while (true) {
    std::string part;
    auto more = (*reader)->NextChunk(&part, 1 << 20);
    ASSERT_TRUE(more.ok());
    chunk += Records(part);
    if (!*more) break;
  }
  RecordReader rr(chunk);
  std::string_view k, v;
  std::vector<std::string> got;
  while (rr.Next(&k, &v)) got.push_back(std::string(k) + std::string(v));
  std::vector<std::string> want;
  for (int i = 100; i < 15100; i++) want.push_back(recs.substr(i * 100, 100));
  std::stable_sort(want.begin(), want.end(), [](const std::string& a, const std::string& b) {
    return a.compare(0, 10, b, 0, 10) < 0;
  });
  EXPECT_EQ(got, want);

  std::ofstream(dir / "bad.bin") << recs << "xyz";
  t.mutable_split()->set_path((dir / "bad.bin").string());
  auto bad = RunMapTask(t, **job, store->get(), {});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.bin"), std::string::npos) << bad.status().message();
}

// Keys that all share a long beginning (grep's FILE:OFFSET keys, here a long path and leading
// zeros): sorted from where they first differ, they come out in byte order, every one of them.
TEST(MapTaskTest, KeysWithALongCommonPrefixSortAsBytes) {
  TempDir tmp;
  fs::path dir = fs::path(tmp.path()) / "a-rather-long-directory-name" / "and-another-one";
  fs::create_directories(dir);
  std::string text;
  for (int i = 0; i < 20000; i++) text += (i % 7 == 0 ? "" : "line ") + std::to_string(i * 7919 % 20000) + "\n";
  std::ofstream(dir / "input.txt") << text;
  for (const char* pattern : {".", "^line 1"}) {
    auto store = IntermediateStore::Open((fs::path(tmp.path()) / (pattern == std::string(".") ? "s1" : "s2")).string());
    ASSERT_TRUE(store.ok());
    proto::AssignTask t;
    t.set_job_id(1);
    t.set_attempt(1);
    t.set_reducers(1);
    t.mutable_split()->set_path((dir / "input.txt").string());
    t.mutable_split()->set_length(text.size());
    t.mutable_split()->set_file_size(text.size());
    auto job = MakeJob("grep", {{"pattern", pattern}});
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    auto r = RunMapTask(t, **job, store->get(), {1, 64 << 20, nullptr});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto reader = (*store)->ReadPartition({1, 0, 1}, 0, Codec::kLz4);
    ASSERT_TRUE(reader.ok());
    std::string records;
    for (bool more = true; more;) {
      std::string part;
      auto next = (*reader)->NextChunk(&part, 1 << 20);
      ASSERT_TRUE(next.ok());
      more = *next;
      records += Records(part);
    }
    RecordReader rr(records);
    std::string_view k, v;
    std::vector<std::string> keys;
    while (rr.Next(&k, &v)) keys.emplace_back(k);
    EXPECT_GT(keys.size(), 4096u) << pattern;
    if (pattern == std::string(".")) EXPECT_EQ(keys.size(), 20000u);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << pattern;
    EXPECT_EQ(r->values().at("map.output.records"), static_cast<int64_t>(keys.size()));
  }
}

// A combined split: whole small files, a range of a larger one (its own line ownership), a
// .gz file and a file appended to after submission, read in order by one attempt.
TEST(MapTaskTest, CombinedSplitReadsEachPartWithItsOwnLineOwnership) {
  TempDir tmp;
  fs::path dir = tmp.path();
  std::ofstream(dir / "a.txt") << "alpha beta\n";
  std::ofstream(dir / "b.txt") << "gamma";  // no final newline
  std::ofstream(dir / "big.txt") << "skipme tail\ndelta epsilon\nzeta\nafter range\n";
  std::ofstream(dir / "grow.txt") << "eta\ntheta";
  ASSERT_EQ(std::system(("printf 'iota kappa\\n' | gzip -c > " + (dir / "c.txt.gz").string()).c_str()), 0);
  proto::AssignTask t;
  t.set_job_id(1);
  t.set_attempt(1);
  t.set_reducers(3);
  auto add = [&](const fs::path& p, uint64_t off, uint64_t len) {
    proto::InputSplit* part = t.mutable_split()->add_parts();
    part->set_path(p.string());
    part->set_offset(off);
    part->set_length(len);
    part->set_file_size(fs::file_size(p));
  };
  add(dir / "a.txt", 0, 11);
  add(dir / "b.txt", 0, 5);
  add(dir / "big.txt", 5, 22);  // owns the lines starting in [5, 27): "delta epsilon" (12) and "zeta" (26)
  add(dir / "c.txt.gz", 0, fs::file_size(dir / "c.txt.gz"));
  add(dir / "grow.txt", 0, 9);
  std::ofstream(dir / "grow.txt", std::ios::app) << "late\nmore words\n";  // after submission
  auto job = MakeJob("wordcount", {});
  for (int threads : {1, 3}) {
    auto store = IntermediateStore::Open((dir / ("s" + std::to_string(threads))).string());
    ASSERT_TRUE(store.ok());
    auto r = RunMapTask(t, **job, store->get(), {threads, 1 << 20, nullptr});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::map<std::string, int64_t> words;
    for (auto& [pk, n] : ReadCounts(store->get())) words[pk.second] += n;
    EXPECT_EQ(words, (std::map<std::string, int64_t>{{"alpha", 1}, {"beta", 1}, {"gamma", 1}, {"delta", 1},
                                                      {"epsilon", 1}, {"zeta", 1}, {"iota", 1}, {"kappa", 1},
                                                      {"eta", 1}, {"theta", 1}}))
        << threads << " threads";
    EXPECT_EQ(r->values().at("map.input.records"), 7);
  }
  // A part that cannot be read fails the attempt, naming it.
  t.mutable_split()->mutable_parts(1)->set_path((dir / "gone.txt").string());
  auto store = IntermediateStore::Open((dir / "s-bad").string());
  ASSERT_TRUE(store.ok());
  auto bad = RunMapTask(t, **job, store->get(), {});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gone.txt"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace mr
