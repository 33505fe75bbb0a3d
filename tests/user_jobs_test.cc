// Users' own jobs: a C++ plugin loaded with --job-lib, and streaming commands (--mapper/--reducer)
// in awk, python3 and sh, each compared byte for byte with the built-in wordcount.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <random>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;

std::string Plugin() {
  const char* p = std::getenv("MR_PLUGIN");
  return p ? p : "";
}

// ASCII text (so that awk's and python's idea of a letter is the definition's), over several
// files and many splits.
void MakeAsciiInputs(const std::string& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(99);
  const char* words[] = {"The", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "then", "some"};
  for (int f = 0; f < 3; f++) {
    std::string text;
    for (int line = 0; line < 3000; line++) {
      int n = rng() % 10;
      for (int i = 0; i < n; i++) text += std::string(words[rng() % 11]) + (rng() % 5 ? " " : ", 42-");
      text += "\n";
    }
    WriteFile(fmt::format("{}/f{}.txt", dir, f), text);
  }
}

class UserJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeAsciiInputs(tmp_ / "in");
    CommandResult r = Run({"--job", "wordcount"}, "builtin");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    builtin_ = ReadJobOutput(tmp_ / "builtin", 2);
  }
  CommandResult Run(std::vector<std::string> job_flags, const std::string& out) {
    std::vector<std::string> args = {"run", "--input", tmp_ / "in", "--output", tmp_ / out, "--reducers", "2",
                                     "--split-size", "16k", "--workers", "2"};
    args.insert(args.end(), job_flags.begin(), job_flags.end());
    return RunMr(args);
  }
  TempDir tmp_;
  std::string builtin_;
};

TEST_F(UserJobsTest, PluginMatchesTheBuiltinWordCount) {
  ASSERT_FALSE(Plugin().empty()) << "MR_PLUGIN is not set";
  CommandResult r = Run({"--job", "wc-plugin", "--job-lib", Plugin()}, "plugin");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "plugin", 2), builtin_);
  EXPECT_NE(r.out.find("plugin.long_words"), std::string::npos) << r.out;  // a user counter
}

// A plugin's arguments are checked at submit, as a built-in job's are: one error line, exit 1, no
// cluster started and no attempt spent.
TEST_F(UserJobsTest, PluginArgumentsAreCheckedAtSubmit) {
  CommandResult r = Run({"--job", "wc-plugin", "--job-lib", Plugin(), "--arg", "min_length=lots"}, "bad");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "mr: " + Plugin() + ": min_length must be a number, not 'lots'\n") << r.out;
  EXPECT_EQ(r.out, "") << "a cluster was started for arguments the plugin refuses";
  EXPECT_FALSE(fs::exists(tmp_ / "bad"));
  CommandResult missing = Run({"--job", "x", "--job-lib", tmp_ / "nope.so"}, "bad2");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot be read"), std::string::npos) << missing.err;
  WriteFile(tmp_ / "fake.so", "not a library");
  CommandResult fake = Run({"--job", "x", "--job-lib", tmp_ / "fake.so"}, "bad3");
  EXPECT_EQ(fake.exit_code, 1);
  EXPECT_NE(fake.err.find("cannot load job library"), std::string::npos) << fake.err;
  EXPECT_EQ(fake.out, "");

  // `mr submit` to a running cluster: refused before the master sees a job.
  Cluster cluster(tmp_ / "cluster");
  ASSERT_TRUE(cluster.StartMaster({"--allow-user-code"}).ok());
  CommandResult submit = RunMr({"submit", "--master", cluster.master_address(), "--job", "wc-plugin", "--job-lib",
                                Plugin(), "--input", tmp_ / "in", "--output", tmp_ / "bad4", "--arg", "size=9"});
  EXPECT_EQ(submit.exit_code, 1);
  EXPECT_EQ(submit.err, "mr: " + Plugin() + ": wc-plugin takes only min_length=N, not 'size'\n");
  EXPECT_EQ(cluster.Job(1).answered, false) << "the master got a job whose arguments its plugin refuses";
}

// The classic streaming reducer: input sorted by key, sum each run of equal keys.
const char* kAwkReducer =
    R"(awk -F'\t' 'NR > 1 && $1 != k { print k "\t" s; s = 0 } { k = $1; s += $2 } END { if (NR) print k "\t" s }')";

TEST_F(UserJobsTest, AwkStreamingMatchesTheBuiltinWordCount) {
  const char* mapper = R"(awk '{ n = split($0, w, /[^A-Za-z]+/); for (i = 1; i <= n; i++) if (w[i] != "") print w[i] "\t1" }')";
  CommandResult r = Run({"--mapper", mapper, "--reducer", kAwkReducer}, "awk");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "awk", 2), builtin_);
}

TEST_F(UserJobsTest, StreamingCombinerShrinksTheShuffleAndKeepsTheOutput) {
  const char* mapper = R"(awk '{ n = split($0, w, /[^A-Za-z]+/); for (i = 1; i <= n; i++) if (w[i] != "") print w[i] "\t1" }')";
  CommandResult plain = Run({"--mapper", mapper, "--reducer", kAwkReducer}, "plain");
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  CommandResult r = Run({"--mapper", mapper, "--reducer", kAwkReducer, "--combiner", kAwkReducer}, "combined");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "combined", 2), builtin_);
  // The combiner ran: it produced far fewer records than the mapper, and less was shuffled.
  auto counter = [](const std::string& out, const std::string& name) -> int64_t {
    size_t at = out.find(name + " ");
    return at == std::string::npos ? -1 : std::stoll(out.substr(out.find_first_not_of(' ', at + name.size())));
  };
  int64_t map_out = counter(r.out, "map.output.records");
  int64_t combined = counter(r.out, "combine.output.records");
  ASSERT_GT(map_out, 0) << r.out;
  ASSERT_GT(combined, 0) << r.out;
  EXPECT_LT(combined * 10, map_out);
  EXPECT_LT(counter(r.out, "shuffle.bytes"), counter(plain.out, "shuffle.bytes"));
}

TEST_F(UserJobsTest, PythonStreamingMatchesTheBuiltinWordCount) {
  WriteFile(tmp_ / "mapper.py",
            "import re, sys\n"
            "for line in sys.stdin:\n"
            "    for w in re.findall(r'[A-Za-z]+', line):\n"
            "        print(w + '\\t1')\n");
  CommandResult r = Run({"--mapper", "python3 " + (tmp_ / "mapper.py"), "--reducer", kAwkReducer}, "py");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "py", 2), builtin_);
}

TEST_F(UserJobsTest, IdentityReducerAndLinesWithoutTabs) {
  WriteFile(tmp_ / "in/f0.txt", "b\na\nc x\n");
  fs::remove(tmp_ / "in/f1.txt");
  fs::remove(tmp_ / "in/f2.txt");
  CommandResult r = Run({"--mapper", "cat"}, "id");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // "c x" has no tab: the whole line is the key, the value is empty.
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "id", 2)), "a\t\nb\t\nc x\t\n");
}

TEST_F(UserJobsTest, CrashingMapperFailsTheJobWithItsStderr) {
  WriteFile(tmp_ / "in/f1.txt", "fine\nthis one will CRASH it\nfine\n");
  const char* mapper =
      R"(while read -r l; do case "$l" in *CRASH*) echo "bad record: $l" >&2; exit 3;; esac; printf '%s\t1\n' "$l"; done)";
  CommandResult r = Run({"--mapper", mapper}, "crash");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("failed 4 times"), std::string::npos) << r.err;  // the error, on stderr
  EXPECT_NE(r.out.find("streaming mapper"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exited with code 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad record: this one will CRASH it"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp_ / "crash"));
}

TEST_F(UserJobsTest, KilledReducerFailsTheJob) {
  CommandResult r = Run({"--mapper", "cat", "--reducer", "kill -9 $$"}, "killed");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("streaming reducer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("killed by signal 9"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mr::testing
