// End to end on real processes (`mr run`, `mr teragen`, `mr teravalidate`): terasort's output,
// its part files concatenated, holds exactly the input records in key order (equal keys in input
// order), for uniform keys with every byte value and for skewed keys, over several files, with
// split sizes that are not multiples of 100 and several reducers. teravalidate accepts that output
// and rejects a misordered one; a trailing partial record is refused naming the file.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;

using Records = std::vector<std::string>;

// Writes the records to `files` files under dir; returns them in input order (path, then offset).
Records WriteRecords(const std::string& dir, int files, const std::function<std::string(int)>& key, int count,
                     uint64_t seed) {
  std::mt19937_64 rng(seed);
  fs::create_directories(dir);
  Records all;
  for (int f = 0; f < files; f++) {
    std::string data;
    for (int i = f * count / files; i < (f + 1) * count / files; i++) {
      std::string r = key(i);
      while (r.size() < 100) r.push_back(static_cast<char>(rng() % 256));
      data += r;
      all.push_back(r);
    }
    WriteFile(fmt::format("{}/in-{:02}.bin", dir, f), data);
  }
  return all;
}

// Records sorted by their first 10 bytes; equal keys keep their input order.
std::string Sorted(Records records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const std::string& a, const std::string& b) { return a.compare(0, 10, b, 0, 10) < 0; });
  std::string out;
  for (auto& r : records) out += r;
  return out;
}

class TeraSortTest : public ::testing::Test {
 protected:
  void Sort(const std::string& input, const std::string& split, int reducers, const std::string& expected) {
    std::string out = dir_ / fmt::format("out-{}-{}", split, reducers);
    CommandResult r = RunMr({"run", "--job", "terasort", "--input", input, "--output", out, "--reducers",
                             std::to_string(reducers), "--split-size", split, "--workers", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string got = ReadJobOutput(out, reducers);
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "split " << split << " reducers " << reducers;
    CommandResult v = RunMr({"teravalidate", out, "--input", input});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
  TempDir dir_;
};

TEST_F(TeraSortTest, UniformKeysWithEveryByteValue) {
  std::mt19937_64 rng(11);
  Records recs = WriteRecords(dir_ / "uniform", 3, [&](int) {
    std::string k(10, '\0');
    for (char& c : k) c = static_cast<char>(rng() % 256);
    return k;
  }, 30000, 1);
  std::string expected = Sorted(recs);
  Sort(dir_ / "uniform", "4097", 1, expected);
  Sort(dir_ / "uniform", "300001", 4, expected);
}

TEST_F(TeraSortTest, SkewedKeys) {
  std::mt19937_64 rng(12);
  // A third all-NUL keys, a sixth all-newline keys, a sixth one other key, the rest sharing an
  // 8-byte prefix.
  Records recs = WriteRecords(dir_ / "skewed", 4, [&](int i) {
    switch (i % 6) {
      case 0: case 1: return std::string(10, '\0');
      case 2: return std::string(10, '\n');
      case 3: return std::string("KKKKKKKKKK");
      default: return std::string("prefix\xff\x00", 8) + static_cast<char>(rng() % 256) + static_cast<char>(rng() % 2);
    }
  }, 24000, 2);
  Sort(dir_ / "skewed", "12345", 5, Sorted(recs));
}

TEST_F(TeraSortTest, TeraGenSortValidate) {
  for (bool ascii : {false, true}) {
    std::string gen = dir_ / fmt::format("gen-{}", ascii), sorted = dir_ / fmt::format("sorted-{}", ascii);
    std::vector<std::string> args = {"teragen", "20000", gen, "--parts", "3"};
    if (ascii) args.push_back("--ascii");
    CommandResult g = RunMr(args);
    ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
    EXPECT_NE(g.out.find("teragen.rows"), std::string::npos);
    // A map-only job: one part per range, written by its map; part 1 starts at row 6666 (the 32 hex
    // digits of the row id follow the key and two bytes).
    EXPECT_EQ(fs::file_size(gen + "/part-m-00001"), 100u * 6667);
    EXPECT_EQ(ReadFile(gen + "/part-m-00001").substr(12, 32), fmt::format("{:032X}", 6666));
    EXPECT_FALSE(fs::exists(gen + "/part-r-00000"));
    CommandResult unsorted = RunMr({"teravalidate", gen});
    EXPECT_EQ(unsorted.exit_code, 1);
    EXPECT_NE(unsorted.err.find("misordered: " + gen + "/part-m-00000 record"), std::string::npos) << unsorted.err;
    CommandResult s = RunMr({"run", "--job", "terasort", "--input", gen, "--output", sorted, "--reducers", "3",
                             "--split-size", "777777"});
    ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
    CommandResult v = RunMr({"teravalidate", sorted, "--input", gen});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("records 20000"), std::string::npos) << v.out;
    if (ascii) {
      EXPECT_EQ(ReadFile(sorted + "/part-r-00002").substr(98, 2), "\r\n");
    }
  }
}

TEST_F(TeraSortTest, TeraValidateRejectsMisorderedAndAlteredOutput) {
  std::string out = dir_ / "out";
  fs::create_directories(out);
  std::string a = std::string(10, 'a') + std::string(90, 'x'), b = std::string(10, 'b') + std::string(90, 'y');
  WriteFile(out + "/part-r-00000", a + b);
  WriteFile(out + "/part-r-00001", a);  // smaller than the last key of the part before
  CommandResult v = RunMr({"teravalidate", out});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find(out + "/part-r-00001 record 0"), std::string::npos) << v.err;
  WriteFile(out + "/part-r-00001", b);
  EXPECT_EQ(RunMr({"teravalidate", out}).exit_code, 0);
  std::string in = dir_ / "in";
  fs::create_directories(in);
  WriteFile(in + "/x", b + a + a);  // one record more than the output
  CommandResult c = RunMr({"teravalidate", out, "--input", in});
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("does not hold the input's records"), std::string::npos) << c.err;
  WriteFile(out + "/part-r-00001", b + "z");
  EXPECT_EQ(RunMr({"teravalidate", out}).exit_code, 1);
}

TEST_F(TeraSortTest, TrailingPartialRecordIsRefusedNamingTheFile) {
  std::string in = dir_ / "in";
  fs::create_directories(in);
  WriteFile(in + "/good", std::string(1000, 'g'));
  WriteFile(in + "/partial", std::string(1050, 'p'));
  CommandResult r = RunMr({"run", "--job", "terasort", "--input", in, "--output", dir_ / "out"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(in + "/partial"), std::string::npos) << r.err;
  CommandResult f = RunMr({"run", "--job", "wordcount", "--input", in, "--output", dir_ / "out2",
                           "--input-format", "records:7"});
  EXPECT_NE(f.exit_code, 0);
  EXPECT_NE(f.err.find("whole number of 7-byte records"), std::string::npos) << f.err;
}

// Faults (DESIGN §5): workers crash once after a spill and while serving, and the master is
// killed mid-map and restarted (it resumes from the journaled spec, cut points included); the
// output is still exactly the sorted input.
TEST_F(TeraSortTest, CrashesAndAMasterRestartLeaveTheOutputExact) {
  std::mt19937_64 rng(13);
  Records recs = WriteRecords(dir_ / "in", 3, [&](int i) {
    std::string k(10, static_cast<char>(i % 3 == 0 ? 0 : rng() % 256));
    for (size_t j = 1; j < k.size(); j++) k[j] = static_cast<char>(rng() % 256);
    return k;
  }, 20000, 3);
  const std::string expected = Sorted(recs);
  Cluster cluster(dir_ / "cluster");
  const std::vector<std::string> worker_flags = {"--slots", "2", "--heartbeat", "100ms"};
  // Maps are slowed so that the map phase (60 maps on 4 slots) lasts several seconds: polls, which
  // take up to a second or two on a loaded machine under a sanitizer, see it under way.
  const std::vector<std::string> env = {"MR_FAILPOINTS=map.after_spill=1*crash;shuffle.serve=1*crash;"
                                        "map.after_read=delay(250ms)"};
  ASSERT_TRUE(cluster.StartMaster({"--worker-timeout", "1500ms"}).ok());
  for (int i = 0; i < 2; i++) ASSERT_TRUE(cluster.StartWorker(worker_flags, env).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "terasort", "--input", dir_ / "in",
                           "--output", dir_ / "out", "--reducers", "3", "--split-size", "100001", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  uint64_t id = std::stoull(r.out);
  int crashes = 0;
  bool restarted = false;
  JobState js = cluster.WaitForJob(id, std::chrono::seconds(180), [&](const JobState& s) {
    // Replacements run maps as slowly (without crashing), so the master restart lands mid-map.
    crashes += cluster.ReapWorkers(/*restart=*/true, {"MR_FAILPOINTS=map.after_read=delay(250ms)"});
    if (!restarted && s.maps_done >= 3) {
      cluster.KillMaster();
      ASSERT_TRUE(cluster.RestartMaster().ok());
      restarted = true;
    }
  });
  crashes += cluster.ReapWorkers(/*restart=*/false);  // one that died after the last poll
  ASSERT_EQ(js.state, "succeeded") << js.json;
  EXPECT_TRUE(restarted) << "the job ended before a poll saw 3 maps done";
  EXPECT_GE(crashes, 1);
  std::string got = ReadJobOutput(dir_ / "out", 3);
  EXPECT_TRUE(got == expected) << "output differs from the sorted input";
}

}  // namespace
}  // namespace mr::testing
