// User code cannot take the cluster down (worker/task_process.h), on real processes: a plugin job
// whose code crashes, aborts, throws, exhausts its memory or hangs on one poisoned record fails,
// with the reason and the record in one line, while every worker stays up and a word count
// running beside it finishes exact; with --skip-bad-records it succeeds without that record, for
// streaming commands too (found by bisection). An attempt a backup beat is cancelled. Uses
// tests/poison_plugin.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <thread>

#include <unistd.h>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

class TaskProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    // 100,000 lines; the 50,001st holds the poison.
    std::string text;
    std::map<std::string, int> counts;
    for (int i = 1; i <= 100000; i++) {
      std::string a = i == 50001 ? "POISON" : fmt::format("w{}", i % 97);
      text += a + " x\n";
      counts[a]++;
      counts["x"]++;
    }
    for (const auto& [word, n] : counts) expected_ += fmt::format("{}\t{}\n", word, n);
    counts.erase("POISON");
    counts["x"]--;
    for (const auto& [word, n] : counts) expected_without_poison_ += fmt::format("{}\t{}\n", word, n);
    // Two poisoned lines (the 3rd and the 7th of 10) in a second input.
    fs::create_directories(*tmp_ / "poison2");
    std::string two;
    for (int i = 1; i <= 10; i++) two += i == 3 || i == 7 ? "POISON y\n" : "fine y\n";
    WriteFile(*tmp_ / "poison2/in.txt", two);
    fs::create_directories(*tmp_ / "poison");
    WriteFile(*tmp_ / "poison/in.txt", text);
    fs::create_directories(*tmp_ / "big");
    std::string big;
    for (int i = 0; i < 400000; i++) big += fmt::format("alpha{} beta gamma{}\n", i % 1013, i % 7);
    for (int f = 0; f < 4; f++) WriteFile(fmt::format("{}/big/f{}.txt", tmp_->path(), f), big);
    cluster_ = new Cluster(tmp_->path());
    ASSERT_TRUE(cluster_->StartMaster({"--allow-user-code"}).ok());
    for (int i = 0; i < 3; i++) ASSERT_TRUE(cluster_->StartWorker({"--slots", "2"}).ok());
    ASSERT_TRUE(cluster_->WaitForWorkers(3).ok());
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete tmp_;
  }

  // Submits the poison plugin with `flags` and waits; the failed job's error.
  static JobState RunPoison(const std::string& name, const std::vector<std::string>& flags,
                            const std::string& input = "poison", uint64_t* job_id = nullptr) {
    std::vector<std::string> args = {"submit", "--master", cluster_->master_address(), "--job", "poison", "--job-lib",
                                     POISON_PLUGIN, "--input", *tmp_ / input, "--output", *tmp_ / ("out-" + name),
                                     "--reducers", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    CommandResult r = RunMr(args, Millis(60000));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    uint64_t id = std::stoull(r.out.substr(r.out.find("job ") + 4));
    if (job_id != nullptr) *job_id = id;
    return cluster_->WaitForJob(id, Millis(120000));
  }

  static TempDir* tmp_;
  static Cluster* cluster_;
  static std::string expected_;  // the poison input's space-separated word counts
  static std::string expected_without_poison_;  // ... without its poisoned line
};

TempDir* TaskProcessTest::tmp_ = nullptr;
Cluster* TaskProcessTest::cluster_ = nullptr;
std::string TaskProcessTest::expected_;
std::string TaskProcessTest::expected_without_poison_;


TEST_F(TaskProcessTest, CrashingPluginFailsOnlyItsJobAndNamesTheRecord) {
  // A word count runs beside the poisoned jobs, on the same workers.
  CommandResult wc = RunMr({"submit", "--master", cluster_->master_address(), "--job", "wordcount", "--input",
                            *tmp_ / "big", "--output", *tmp_ / "wc", "--reducers", "2", "--split-size", "2m"});
  ASSERT_EQ(wc.exit_code, 0) << wc.out << wc.err;
  uint64_t wc_id = std::stoull(wc.out.substr(wc.out.find("job ") + 4));

  JobState segv = RunPoison("segv", {"--arg", "mode=segv"});
  EXPECT_EQ(segv.state, "failed");
  EXPECT_TRUE(Has(segv.error, "failed 4 times")) << segv.error;
  EXPECT_TRUE(Has(segv.error, "died of signal 11 (SIGSEGV)")) << segv.error;
  EXPECT_TRUE(Has(segv.error, "at input record 50001 (byte")) << segv.error;
  EXPECT_EQ(segv.error.find('\n'), std::string::npos) << segv.error;

  JobState abrt = RunPoison("abort", {"--arg", "mode=abort"});
  EXPECT_EQ(abrt.state, "failed");
  EXPECT_TRUE(Has(abrt.error, "(SIGABRT)")) << abrt.error;
  EXPECT_TRUE(Has(abrt.error, "at input record 50001")) << abrt.error;

  JobState thrown = RunPoison("throw", {"--arg", "mode=throw"});
  EXPECT_EQ(thrown.state, "failed");
  EXPECT_TRUE(Has(thrown.error, "threw an exception: poisoned record at input record 50001")) << thrown.error;

  JobState reduce = RunPoison("reduce", {"--arg", "mode=segv", "--arg", "phase=reduce"});
  EXPECT_EQ(reduce.state, "failed");
  EXPECT_TRUE(Has(reduce.error, "the task process of reduce 0 died of signal 11 (SIGSEGV)")) << reduce.error;

  JobState done = cluster_->WaitForJob(wc_id, Millis(120000));
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  std::vector<std::string> files;
  for (int f = 0; f < 4; f++) files.push_back(fmt::format("{}/big/f{}.txt", tmp_->path(), f));
  EXPECT_EQ(SortLines(ReadJobOutput(*tmp_ / "wc", 2)), SortLines(ReferenceWordCount(files)));

  // Every worker is still the one that started: none died, none registered twice.
  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
  for (size_t i = 0; i < cluster_->workers(); i++) {
    std::string log = ReadFile(fmt::format("{}/worker-{}.log", tmp_->path(), i));
    EXPECT_EQ(CountOf(log, "registered with the master"), 1u) << "worker " << i;
  }
}

TEST_F(TaskProcessTest, MemoryAndTimeLimitsKillTheTaskNotTheWorker) {
  // Without a limit of its own the job gets the worker's default; with one, its own.
  JobState hog = RunPoison("hog", {"--arg", "mode=hog"});
  EXPECT_EQ(hog.state, "failed");
  EXPECT_TRUE(Has(hog.error, "ran out of memory in its task process")) << hog.error;
  EXPECT_TRUE(Has(hog.error, "(--task-memory) at input record 50001")) << hog.error;

  JobState limited = RunPoison("hog-limited", {"--arg", "mode=hog", "--task-memory", "256m"});
  EXPECT_EQ(limited.state, "failed");
  EXPECT_TRUE(Has(limited.error, "the limit is 256.0 MiB (--task-memory)")) << limited.error;

  // C's malloc returns null instead of throwing: the code that ignores it dies of the signal.
  JobState null = RunPoison("malloc", {"--arg", "mode=malloc", "--task-memory", "256m"});
  EXPECT_EQ(null.state, "failed");
  EXPECT_TRUE(Has(null.error, "(SIGSEGV) at input record 50001")) << null.error;

  JobState hung = RunPoison("sleep", {"--arg", "mode=sleep", "--task-timeout", "1s"});
  EXPECT_EQ(hung.state, "failed");
  EXPECT_TRUE(Has(hung.error, "made no progress for 1.0s (--task-timeout)")) << hung.error;
  EXPECT_TRUE(Has(hung.error, "at input record 50001")) << hung.error;

  // The same plugin without poison still counts exactly.
  JobState fine = RunPoison("none", {"--arg", "mode=none"});
  ASSERT_EQ(fine.state, "succeeded") << fine.Summary();
  EXPECT_EQ(SortLines(ReadJobOutput(*tmp_ / "out-none", 1)), SortLines(expected_));

  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
}

TEST_F(TaskProcessTest, SkippingBadRecordsCountsEveryOtherRecordAndKeepsTheBadOne) {
  uint64_t id = 0;
  for (const std::string mode : {"segv", "throw"}) {
    JobState skipped = RunPoison("skip-" + mode, {"--arg", "mode=" + mode, "--skip-bad-records", "1"}, "poison", &id);
    ASSERT_EQ(skipped.state, "succeeded") << mode << ": " << skipped.Summary();
    // Its part file, _SUCCESS, and the skipped record kept beside them.
    EXPECT_EQ(SortLines(ReadFile(*tmp_ / ("out-skip-" + mode + "/part-r-00000"))), SortLines(expected_without_poison_))
        << mode;
    EXPECT_TRUE(fs::exists(*tmp_ / ("out-skip-" + mode + "/_SUCCESS")));
    EXPECT_EQ(skipped.Counter("records.skipped"), 1) << skipped.json;
    // The record itself, whole, beside the output.
    EXPECT_EQ(ReadFile(*tmp_ / ("out-skip-" + mode + "/_skipped/map-00000")), "POISON x\n") << mode;
  }
  // Said in the attempt's log and the job's status.
  std::string logs = RunMr({"logs", "--master", cluster_->master_address(), std::to_string(id)}).out;
  EXPECT_TRUE(Has(logs, "skips 1 bad record: input record 50001 (byte")) << logs;
  std::string status = RunMr({"status", "--master", cluster_->master_address(), std::to_string(id)}).out;
  EXPECT_TRUE(Has(status, "skipped   1 bad record (at most 1 per map), kept in")) << status;

  // Past its allowance the job fails, naming the records.
  JobState two = RunPoison("skip-two", {"--arg", "mode=segv", "--skip-bad-records", "1"}, "poison2");
  EXPECT_EQ(two.state, "failed");
  EXPECT_TRUE(Has(two.error, "more bad records than --skip-bad-records 1 allows")) << two.error;
  EXPECT_TRUE(Has(two.error, "input record 3 (byte 14 of")) << two.error;
  EXPECT_TRUE(Has(two.error, "input record 7 (byte 44 of")) << two.error;
  EXPECT_FALSE(fs::exists(*tmp_ / "out-skip-two"));
  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
}

// Processes whose command line holds `marker` (this test's own streaming commands).
int ProcessesWith(const std::string& marker) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string cmdline = ReadFile(e.path() / "cmdline");
    if (cmdline.find(marker) != std::string::npos) n++;
  }
  return n;
}

TEST_F(TaskProcessTest, HungStreamingCommandIsKilledWithItsTaskProcess) {
  // A mapper that stops on the poisoned line in a command of its own (a sleep whose argument is
  // this test's mark; the shell running the mapper holds it too).
  const std::string marker = fmt::format("3600.{}", ::getpid());
  const std::string mapper = fmt::format(
      "while read -r l; do case \"$l\" in *POISON*) sleep {};; esac; printf '%s\\t1\\n' \"$l\"; done", marker);
  CommandResult r = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", mapper, "--input",
                           *tmp_ / "poison", "--output", *tmp_ / "out-stream", "--task-timeout", "1s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  JobState hung = cluster_->WaitForJob(std::stoull(r.out.substr(r.out.find("job ") + 4)), Millis(120000));
  EXPECT_EQ(hung.state, "failed");
  EXPECT_TRUE(Has(hung.error, "made no progress for 1.0s (--task-timeout)")) << hung.error;
  // Killed with the task process's group: no sleep of this test is left.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ProcessesWith(marker) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_EQ(ProcessesWith(marker), 0);
  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
}

// A streaming command reads ahead, so the record it failed on is found by bisection: the command
// that exits on the record, and one that crashes on it halfway through a 1 MB buffer (after
// reading every line), both succeed with --skip-bad-records 1 and exactly the other records.
TEST_F(TaskProcessTest, StreamingSkipsTheRecordItsCommandFailsOn) {
  const std::string reducer = R"(awk -F'\t' '{ n[$1] += $2 } END { for (k in n) print k "\t" n[k] }')";
  const std::map<std::string, std::string> mappers = {
      {"exits", R"(awk '/POISON/ { exit 3 } { for (i = 1; i <= NF; i++) print $i "\t1" }')"},
      {"crashes", R"(perl -e 'my @b; my $n = 0;
          sub flush { for my $l (@b) { kill "SEGV", $$ if $l =~ /POISON/; print "$_\t1\n" for split " ", $l } @b = (); $n = 0 }
          while (my $l = <STDIN>) { push @b, $l; $n += length $l; flush() if $n >= 1 << 20 } flush()')"},
  };
  for (const auto& [name, mapper] : mappers) {
    const fs::path out = *tmp_ / ("out-stream-skip-" + name);
    CommandResult r = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", mapper, "--reducer", reducer,
                             "--input", *tmp_ / "poison", "--output", out, "--reducers", "1", "--skip-bad-records", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    uint64_t id = std::stoull(r.out.substr(r.out.find("job ") + 4));
    JobState done = cluster_->WaitForJob(id, Millis(120000));
    ASSERT_EQ(done.state, "succeeded") << name << ": " << done.Summary();
    EXPECT_EQ(SortLines(ReadFile(out / "part-r-00000")), SortLines(expected_without_poison_)) << name;
    EXPECT_EQ(ReadFile(out / "_skipped/map-00000"), "POISON x\n") << name;
    EXPECT_EQ(done.Counter("records.skipped"), 1) << done.json;
    // The failed attempt's error says what the failure was traced to.
    std::string logs = RunMr({"logs", "--master", cluster_->master_address(), std::to_string(id)}).out;
    EXPECT_TRUE(Has(logs, "(traced to input record 50001 (byte")) << logs;
  }
  // Packed small files, the poison in the second: its own command fails, and only its records are
  // bisected; the record is named in the right file.
  fs::create_directories(*tmp_ / "packed");
  WriteFile(*tmp_ / "packed/a.txt", "one x\ntwo x\n");
  WriteFile(*tmp_ / "packed/b.txt", "three x\nPOISON x\nfour x\n");
  WriteFile(*tmp_ / "packed/c.txt", "five x\n");
  const fs::path out = *tmp_ / "out-stream-skip-packed";
  CommandResult r = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", mappers.at("exits"),
                           "--reducer", reducer, "--input", *tmp_ / "packed", "--output", out, "--reducers", "1",
                           "--skip-bad-records", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  JobState packed = cluster_->WaitForJob(std::stoull(r.out.substr(r.out.find("job ") + 4)), Millis(120000));
  ASSERT_EQ(packed.state, "succeeded") << packed.Summary();
  EXPECT_EQ(packed.maps_total, 1);
  EXPECT_EQ(SortLines(ReadFile(out / "part-r-00000")), "five\t1\nfour\t1\none\t1\nthree\t1\ntwo\t1\nx\t5\n");
  EXPECT_EQ(ReadFile(out / "_skipped/map-00000"), "POISON x\n");
  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
}

// A map attempt that a backup beat is cancelled on its worker at once, not left to run on (its
// slot held) until the job ends: here the job cannot end until the beaten attempt's command is
// gone, because its reducer waits for the test to see that.
TEST_F(TaskProcessTest, AnAttemptABackupBeatIsCancelled) {
  const std::string marker = fmt::format("3601.{}", ::getpid());
  const fs::path lock = *tmp_ / "first-mapper", go = *tmp_ / "reducer-may-go";
  // The first mapper to start hangs; every other (the backup of its map too) passes lines on.
  const std::string mapper = fmt::format("if mkdir {} 2>/dev/null; then sleep {}; fi; cat", lock.string(), marker);
  const std::string reducer = fmt::format("while [ ! -e {} ]; do sleep 0.05; done; cat", go.string());
  CommandResult r = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", mapper, "--reducer", reducer,
                           "--input", *tmp_ / "poison", "--output", *tmp_ / "out-backup", "--split-size", "256k",
                           "--reducers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  uint64_t id = std::stoull(r.out.substr(r.out.find("job ") + 4));
  // The hung attempt starts, then is beaten by its backup (about a second later) and cancelled.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(lock) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(Millis(20));
  ASSERT_TRUE(fs::exists(lock));
  while (ProcessesWith(marker) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_EQ(ProcessesWith(marker), 0) << "the beaten attempt still runs";
  WriteFile(go, "");
  JobState done = cluster_->WaitForJob(id, Millis(120000));
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  EXPECT_GE(done.Counter("attempts.backup"), 1) << done.json;
  EXPECT_EQ(CountOf(ReadJobOutput(*tmp_ / "out-backup", 1), "\n"), 100000u);  // every line, once
  EXPECT_EQ(cluster_->ReapWorkers(false), 0);
}

}  // namespace
}  // namespace mr::testing
