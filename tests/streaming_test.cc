// Hadoop Streaming's contract beyond lines in and lines out, on a real cluster: the job's variables
// in every command's environment (Hadoop's names; -D properties; --cmdenv; the input file of each
// packed small file), and counters and status from the commands' stderr (reporter: lines), which
// are bounded and count as progress for --task-timeout; and a Hadoop command line run as written
// (`mr streaming`).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fmt/format.h>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

const char kSum[] = R"(awk -F'\t' '{ n[$1] += $2 } END { for (k in n) print k "\t" n[k] }')";

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    // Three small files, packed into one map's split; 2, 3 and 5 lines.
    fs::create_directories(*tmp_ / "small");
    int lines[] = {2, 3, 5};
    for (int f = 0; f < 3; f++) {
      std::string text;
      for (int i = 0; i < lines[f]; i++) text += fmt::format("word{} other\n", i);
      WriteFile(fmt::format("{}/small/{}.txt", tmp_->path(), char('a' + f)), text);
    }
    cluster_ = new Cluster(tmp_->path());
    ASSERT_TRUE(cluster_->StartMaster({"--allow-user-code"}).ok());
    for (int i = 0; i < 2; i++) ASSERT_TRUE(cluster_->StartWorker({"--slots", "2"}).ok());
    ASSERT_TRUE(cluster_->WaitForWorkers(2).ok());
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete tmp_;
  }

  // Submits a streaming job over `input` with `flags` and waits for it.
  static JobState Submit(const std::string& name, const std::vector<std::string>& flags,
                         const std::string& input = "small", uint64_t* id = nullptr) {
    std::vector<std::string> args = {"submit", "--master", cluster_->master_address(), "--input", *tmp_ / input,
                                     "--output", *tmp_ / ("out-" + name), "--reducers", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    CommandResult r = RunMr(args, Millis(60000));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    uint64_t job = std::stoull(r.out.substr(r.out.find("job ") + 4));
    if (id != nullptr) *id = job;
    return cluster_->WaitForJob(job, Millis(120000));
  }
  static std::string Output(const std::string& name) { return SortLines(ReadFile(*tmp_ / ("out-" + name + "/part-r-00000"))); }
  static std::string Logs(uint64_t id) {
    return RunMr({"logs", "--master", cluster_->master_address(), std::to_string(id)}).out;
  }

  static TempDir* tmp_;
  static Cluster* cluster_;
};

TempDir* StreamingTest::tmp_ = nullptr;
Cluster* StreamingTest::cluster_ = nullptr;

TEST_F(StreamingTest, EachPackedFileIsNamedToItsMapper) {
  JobState done = Submit("per-file", {"--mapper", R"(awk '{ print ENVIRON["mapreduce_map_input_file"] "\t1" }')",
                                      "--reducer", kSum});
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  EXPECT_EQ(done.maps_total, 1) << done.json;  // one split, three files
  std::string small = *tmp_ / "small";
  EXPECT_EQ(Output("per-file"), fmt::format("{0}/a.txt\t2\n{0}/b.txt\t3\n{0}/c.txt\t5\n", small));
}

TEST_F(StreamingTest, TheJobsVariablesPropertiesAndCmdenvReachTheCommands) {
  const std::string mapper =
      R"(cat > /dev/null; printf 'map %s\t%s %s %s %s %s %s\n' "$map_input_file" "$mapreduce_task_ismap" )"
      R"("$mapreduce_job_reduces" "$mapreduce_task_partition" "$my_custom_prop" "$GREETING" "$mapreduce_map_input_length")";
  const std::string reducer =
      R"(cat > /dev/null; printf 'reduce\t%s %s %s %s\n' "$mapreduce_task_ismap" "$mapred_task_partition" )"
      R"("$my_custom_prop" "$mapreduce_task_attempt_id")";
  uint64_t id = 0;
  JobState done = Submit("vars", {"--mapper", mapper, "--reducer", reducer, "-D", "my.custom.prop=42", "--cmdenv",
                                  "GREETING=hello"}, "small/c.txt", &id);
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  std::string out = ReadFile(*tmp_ / "out-vars/part-r-00000");
  EXPECT_EQ(out, fmt::format("reduce\tfalse 0 42 attempt_mr_{:04}_r_000000_0\n", id)) << out;
  // The map's line went through the shuffle: the reducer read it; run the map alone to see it.
  JobState map = Submit("vars-map", {"--mapper", mapper, "-D", "my.custom.prop=42", "--cmdenv", "GREETING=hello"},
                        "small/c.txt");
  ASSERT_EQ(map.state, "succeeded") << map.Summary();
  EXPECT_EQ(ReadFile(*tmp_ / "out-vars-map/part-r-00000"),
            fmt::format("map {}\ttrue 1 0 42 hello 60\n", *tmp_ / "small/c.txt"));
  // --cmdenv is checked before anything runs.
  CommandResult bad = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", "cat", "--input",
                             *tmp_ / "small", "--output", *tmp_ / "out-bad", "--cmdenv", "NO SPACE=x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(Has(bad.err, "--cmdenv NO SPACE=x: want NAME=VALUE")) << bad.err;
}

TEST_F(StreamingTest, CountersAndStatusFromStderr) {
  const std::string mapper =
      R"(awk '{ print "reporter:counter:Lines,seen,1" > "/dev/stderr"; print $1 "\t1" })"
      R"( END { print "reporter:status:done mapping" > "/dev/stderr"; print "reporter:counter:bad" > "/dev/stderr";)"
      R"( print "an ordinary line" > "/dev/stderr" }')";
  uint64_t id = 0;
  JobState done = Submit("counters", {"--mapper", mapper, "--reducer", kSum}, "small", &id);
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  EXPECT_EQ(done.Counter("Lines.seen"), 10) << done.json;
  std::string logs = Logs(id);
  EXPECT_TRUE(Has(logs, "status: done mapping")) << logs;
  EXPECT_TRUE(Has(logs, "an ordinary line")) << logs;
  EXPECT_TRUE(Has(logs, "reporter:counter:bad  (not understood")) << logs;
  EXPECT_FALSE(Has(logs, "reporter:counter:Lines")) << logs;  // taken, not logged

  // Counter names are bounded: a flood fails the attempt with the reason, never the master.
  JobState flood = Submit("flood", {"--mapper", R"(awk 'BEGIN { for (i = 0; i < 1500; i++) print "reporter:counter:G,c" i ",1" > "/dev/stderr" } { print }')"});
  EXPECT_EQ(flood.state, "failed");
  EXPECT_TRUE(Has(flood.error, "reported more than 1000 counters")) << flood.error;
}

TEST_F(StreamingTest, AStatusLineIsProgress) {
  // Two seconds without reading input, saying so every 0.2 s: under a 1 s --task-timeout it lives.
  const std::string mapper =
      "cat > /dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do echo \"reporter:status:step $i\" >&2; sleep 0.2; done; "
      "printf 'done\\t1\\n'";
  JobState done = Submit("status", {"--mapper", mapper, "--task-timeout", "1s"}, "small/a.txt");
  ASSERT_EQ(done.state, "succeeded") << done.Summary();
  EXPECT_EQ(ReadFile(*tmp_ / "out-status/part-r-00000"), "done\t1\n");
}

TEST_F(StreamingTest, AHadoopCommandLineRunsAsWritten) {
  // `hadoop jar hadoop-streaming.jar` replaced by `mr streaming --master ...`; everything else as is.
  const fs::path out = *tmp_ / "out-hadoop";
  CommandResult r = RunMr({"streaming", "--master", cluster_->master_address(), "-D", "mapreduce.job.name=wc",
                           "-D", "mapreduce.job.reduces=2", "-input", *tmp_ / "small/a.txt" + "," + *tmp_ / "small/c.txt",
                           "-output", out.string(), "-mapper",
                           R"(awk '{ for (i = 1; i <= NF; i++) print $i "\t1" }')", "-reducer", kSum, "-cmdenv",
                           "LC_ALL=C", "-inputformat", "org.apache.hadoop.mapred.TextInputFormat"},
                          Millis(60000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(out / "_SUCCESS"));
  EXPECT_EQ(SortLines(ReadJobOutput(out, 2)), "other\t7\nword0\t2\nword1\t2\nword2\t1\nword3\t1\nword4\t1\n");
  // What mr does not do is refused by name, before anything runs.
  CommandResult refused = RunMr({"streaming", "--master", cluster_->master_address(), "-input", *tmp_ / "small",
                                 "-output", *tmp_ / "out-refused", "-mapper", "cat", "-D",
                                 "stream.num.reduce.output.key.fields=2"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(Has(refused.err, "-D stream.num.reduce.output.key.fields: splitting a reducer's output by key fields "
                               "is not supported yet")) << refused.err;
  EXPECT_FALSE(fs::exists(*tmp_ / "out-refused"));
}

// Secondary sort, Hadoop's standard way: the key is (user, time), users pick the reducer, and each
// user's events reach it newest first, numerically. The same through mr's flags and through
// Hadoop's own command line.
TEST_F(StreamingTest, KeyFieldsPartitionAndSortLikeHadoop) {
  std::string events;
  for (int i = 0; i < 300; i++) events += fmt::format("user{} {} e{}\n", i % 7, (i * 37) % 101, i);
  fs::create_directories(*tmp_ / "events");
  WriteFile(*tmp_ / "events/in.txt", events);
  const std::string mapper = R"(awk '{ print $1 "\t" $2 "\t" $3 }')";
  CommandResult flags = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", mapper, "--reducer",
                               "cat", "--input", *tmp_ / "events", "--output", *tmp_ / "out-sorted", "--reducers", "2",
                               "--key-fields", "2", "--partition-by", "k1,1", "--sort-by", "k1,1 k2,2nr", "--wait",
                               "--quiet"}, Millis(60000));
  ASSERT_EQ(flags.exit_code, 0) << flags.out << flags.err;
  // Each user in one part file, its times descending as numbers.
  std::map<std::string, int> part_of;
  size_t lines = 0;
  for (int part = 0; part < 2; part++) {
    std::string text = ReadFile(fmt::format("{}/out-sorted/part-r-{:05}", tmp_->path(), part));
    std::map<std::string, int> last;
    for (size_t b = 0, e; (e = text.find('\n', b)) != std::string::npos; b = e + 1, lines++) {
      std::string line = text.substr(b, e - b);
      size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
      ASSERT_NE(t2, std::string::npos) << line;
      std::string user = line.substr(0, t1);
      int time = std::stoi(line.substr(t1 + 1, t2 - t1 - 1));
      EXPECT_TRUE(part_of.emplace(user, part).first->second == part) << user << " in two parts";
      if (last.contains(user)) {
        EXPECT_GE(last[user], time) << line;
      } else if (!last.empty()) {
        EXPECT_GT(user, last.rbegin()->first) << "users in order";
      }
      last[user] = time;
    }
  }
  EXPECT_EQ(lines, 300u);
  EXPECT_EQ(part_of.size(), 7u);

  // Hadoop's command line for the same job, run as written.
  CommandResult hadoop = RunMr(
      {"streaming", "--master", cluster_->master_address(), "-D", "stream.num.map.output.key.fields=2", "-D",
       "mapreduce.partition.keypartitioner.options=-k1,1", "-D", "mapreduce.partition.keycomparator.options=-k1,1 -k2,2nr",
       "-D", "mapreduce.job.output.key.comparator.class=org.apache.hadoop.mapreduce.lib.partition.KeyFieldBasedComparator",
       "-input", *tmp_ / "events", "-output", *tmp_ / "out-sorted-hadoop", "-mapper", mapper, "-reducer", "cat",
       "-partitioner", "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner", "-numReduceTasks", "2"},
      Millis(60000));
  ASSERT_EQ(hadoop.exit_code, 0) << hadoop.out << hadoop.err;
  for (int part = 0; part < 2; part++) {
    // Keys the comparator finds equal may come in either order: compare each part's lines as sets.
    EXPECT_EQ(SortLines(ReadFile(fmt::format("{}/out-sorted-hadoop/part-r-{:05}", tmp_->path(), part))),
              SortLines(ReadFile(fmt::format("{}/out-sorted/part-r-{:05}", tmp_->path(), part))));
  }
  // A bad key spec is refused at submit, naming it.
  CommandResult bad = RunMr({"submit", "--master", cluster_->master_address(), "--mapper", "cat", "--input",
                             *tmp_ / "events", "--output", *tmp_ / "out-bad-keys", "--sort-by", "k0"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(Has(bad.err, "'k0': want -kF1")) << bad.err;
}

// mrjob's common two-step shape, count then pick the maximum, as one `mr run`: the second step is
// a streaming step with quoted commands.
TEST_F(StreamingTest, AStreamingStepInAPipeline) {
  const fs::path out = *tmp_ / "out-pipeline";
  CommandResult r = RunMr({"run", "--input", *tmp_ / "small", "--output", out, "--workers", "1", "--mapper",
                           R"(awk '{ for (i = 1; i <= NF; i++) print $i "\t1" }')", "--reducer", kSum, "--then",
                           R"(mapper=cat reducer="sort -t '	' -k2,2nr -k1,1 | head -1")"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(out, 1), "other\t10\n");
  // A step that is neither a job nor a streaming step, or badly quoted, is refused before anything runs.
  CommandResult bad = RunMr({"run", "--input", *tmp_ / "small", "--output", *tmp_ / "out-pipeline-bad", "--mapper",
                             "cat", "--then", "mapper='unclosed"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Has(bad.err, "an unclosed ' quote")) << bad.err;
}

// -numReduceTasks 0: a map-only job. Its part is its map's lines in input order (a line with no
// TAB is a key with an empty value, written "KEY<TAB>" as Hadoop's TextOutputFormat does), and the
// reducer given is not run, as in Hadoop.
TEST_F(StreamingTest, ZeroReduceTasksIsAMapOnlyJob) {
  const fs::path out = *tmp_ / "out-maponly";
  CommandResult r = RunMr({"streaming", "--master", cluster_->master_address(), "-input",
                           *tmp_ / "small/a.txt" + "," + *tmp_ / "small/b.txt", "-output", out.string(), "-mapper",
                           "tr a-z A-Z", "-reducer", "wc -l", "-numReduceTasks", "0"},
                          Millis(60000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"_SUCCESS", "part-m-00000"}));  // two small files, one map
  EXPECT_EQ(ReadFile(out / "part-m-00000"),
            "WORD0 OTHER\t\nWORD1 OTHER\t\nWORD0 OTHER\t\nWORD1 OTHER\t\nWORD2 OTHER\t\n");
}

// --files: the mapper script and a side file travel with the submission; each task finds them in
// its working directory under their names (PATH#NAME renames one), executable as they were. The
// master journals them: submitted to a master with no worker, the originals deleted, the master
// restarted, and only then a worker: the job still runs them.
TEST_F(StreamingTest, FilesShippedWithTheJobOutliveTheirOriginalsAndAMasterRestart) {
  TempDir tmp;
  Cluster cluster(tmp.path());
  ASSERT_TRUE(cluster.StartMaster({"--allow-user-code"}).ok());
  const fs::path mine = tmp / "mine";
  fs::create_directories(mine);
  WriteFile(mine / "tag.sh", "#!/bin/sh\nwhile read -r w rest; do printf '%s%s\\t1\\n' \"$(cat prefix.txt)\" \"$w\"; done\n");
  fs::permissions(mine / "tag.sh", fs::perms(0755));
  WriteFile(mine / "p.txt", "x-");
  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--input", *tmp_ / "small", "--output",
                           tmp / "out", "--reducers", "1", "--mapper", "./tag.sh", "--reducer", kSum, "--files",
                           (mine / "tag.sh").string() + "," + (mine / "p.txt").string() + "#prefix.txt", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const uint64_t id = std::stoull(r.out);
  fs::remove_all(mine);
  cluster.KillMaster();
  ASSERT_TRUE(cluster.RestartMaster().ok());
  ASSERT_TRUE(cluster.StartWorker({"--slots", "2", "--allow-user-code"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  JobState js = cluster.WaitForJob(id, Millis(120000));
  ASSERT_EQ(js.state, "succeeded") << js.json << ReadFile(tmp / "master.log");
  EXPECT_EQ(SortLines(ReadFile(tmp / "out/part-r-00000")), "x-word0\t3\nx-word1\t3\nx-word2\t2\nx-word3\t1\nx-word4\t1\n");
  EXPECT_TRUE(Has(js.json, "\"prefix.txt\"")) << js.json;  // the job's status lists its files
  // What cannot be shipped is refused at submit, by name.
  CommandResult missing = RunMr({"submit", "--master", cluster.master_address(), "--input", *tmp_ / "small",
                                 "--output", tmp / "out2", "--mapper", "cat", "--files", tmp / "nothing.py"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_TRUE(Has(missing.err, "--files " + tmp / "nothing.py")) << missing.err;
  CommandResult builtin = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                                 *tmp_ / "small", "--output", tmp / "out3", "--files", *tmp_ / "small/a.txt"});
  EXPECT_NE(builtin.exit_code, 0);
  EXPECT_TRUE(Has(builtin.err, "--files are for streaming")) << builtin.err;
}

}  // namespace
}  // namespace mr::testing
