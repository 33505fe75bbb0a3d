// The mr command line as a user meets it, with real master and worker processes: following a job
// (mr wait, status --follow, Ctrl-C on submit --wait), its result at a glance (--show, mr cat),
// the help (mr help, mr version, did-you-mean), options before the command, and the exit codes of
// a wrong token (1) and of an HTTP port given as the master (3, said in plain words).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;
using json = nlohmann::json;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}


class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    for (int i = 0; i < 2000; i++) text += fmt::format("alpha beta gamma delta w{}\n", i % 7);
    WriteFile(tmp_ / "in.txt", text);
  }
  std::vector<std::string> Submit(const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"submit", "--master", cluster_.master_address(), "--job", "wordcount",
                                     "--input", tmp_ / "in.txt", "--output", tmp_ / out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

TEST_F(CliTest, CtrlCLeavesTheJobRunningAndWaitReattaches) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  const std::string master = cluster_.master_address();

  // No worker yet: the job stays queued while the client follows it.
  auto client = Spawn(
      [&] {
        std::vector<std::string> argv = Submit("out", {"--wait"});
        argv.insert(argv.begin(), MrBinary());
        return argv;
      }(),
      tmp_ / "submit.log");
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(WaitForText(tmp_ / "submit.log", "queued")) << ReadFile(tmp_ / "submit.log");
  ASSERT_EQ(::kill(*client, SIGINT), 0);
  auto ended = WaitFor(*client, Millis(30000));
  ASSERT_TRUE(ended.ok());
  std::string log = ReadFile(tmp_ / "submit.log");
  EXPECT_TRUE(ended->exited && ended->code == 130) << ended->ToString() << log;
  EXPECT_TRUE(Contains(log, "submitted job 1")) << log;
  EXPECT_TRUE(Contains(log, "job 1; it keeps running")) << log;
  EXPECT_TRUE(Contains(log, "re-attach: mr wait 1 --master " + master)) << log;
  EXPECT_EQ(cluster_.Job(1).state, "queued");

  // Re-attach, then let the job run: mr wait ends with it, showing where the output is and its lines.
  auto waiter = Spawn({MrBinary(), "wait", "1", "--master", master}, tmp_ / "wait.log");
  ASSERT_TRUE(waiter.ok());
  ASSERT_TRUE(WaitForText(tmp_ / "wait.log", "queued")) << ReadFile(tmp_ / "wait.log");
  ASSERT_TRUE(cluster_.StartWorker().ok());
  ended = WaitFor(*waiter, Millis(120000));
  ASSERT_TRUE(ended.ok());
  log = ReadFile(tmp_ / "wait.log");
  EXPECT_TRUE(ended->exited && ended->code == 0) << ended->ToString() << log;
  EXPECT_TRUE(Contains(log, "job 1 succeeded")) << log;
  EXPECT_TRUE(Contains(log, "output: " + tmp_ / "out")) << log;
  EXPECT_TRUE(Contains(log, "all 5 lines of the output:\n  alpha\t2000\n  beta\t2000\n")) << log;

  // On a finished job: at once, the same result; --show 0 shows no lines; status --follow too.
  CommandResult again = RunMr({"wait", "1", "--master", master, "--show", "0"}, Millis(20000));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "job 1 succeeded")) << again.out;
  EXPECT_FALSE(Contains(again.out, "alpha")) << again.out;
  CommandResult follow = RunMr({"status", "1", "--follow", "--master", master}, Millis(20000));
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_TRUE(Contains(follow.out, "job 1 (wordcount): succeeded")) << follow.out;
}

TEST_F(CliTest, SubmitSaysHowToFollowAndWaitExitsWithTheJobsResult) {
  ASSERT_TRUE(cluster_.StartMaster({"--allow-user-code"}).ok());
  const std::string master = cluster_.master_address();
  CommandResult plain = RunMr(Submit("out1"), Millis(20000));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(Contains(plain.out, "submitted job 1 (job wordcount, output " + tmp_ / "out1" + ")")) << plain.out;
  EXPECT_TRUE(Contains(plain.out, "follow: mr wait 1 --master " + master)) << plain.out;
  CommandResult quiet = RunMr(Submit("out2", {"--quiet"}), Millis(20000));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "2\n");

  // Killed, unknown: exit 1.
  ASSERT_EQ(RunMr({"kill", "2", "--master", master}, Millis(20000)).exit_code, 0);
  CommandResult killed = RunMr({"wait", "2", "--master", master}, Millis(20000));
  EXPECT_EQ(killed.exit_code, 1) << killed.out << killed.err;
  EXPECT_TRUE(Contains(killed.out, "job 2 killed")) << killed.out;
  CommandResult again = RunMr({"kill", "2", "--master", master}, Millis(20000));
  EXPECT_EQ(again.err, "mr: job 2 has already ended (killed)\n");
  CommandResult unknown = RunMr({"wait", "99", "--master", master}, Millis(20000));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Contains(unknown.err, "no job 99")) << unknown.err;
  EXPECT_EQ(RunMr({"wait", "nine", "--master", master}).exit_code, 2);
  // A master that cannot be reached: 3, without waiting for one to come back.
  CommandResult nowhere = RunMr({"wait", "1", "--master", "127.0.0.1:1"}, Millis(60000));
  EXPECT_EQ(nowhere.exit_code, 3) << nowhere.err;
  EXPECT_TRUE(Contains(nowhere.err, "cannot reach the master")) << nowhere.err;

  // Job 1 runs; --json progress on stderr is JSON lines, the answer on stdout one JSON document.
  ASSERT_TRUE(cluster_.StartWorker().ok());
  CommandResult waited = RunMr({"wait", "1", "--master", master, "--json"}, Millis(120000));
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(json::parse(waited.out).at("state"), "succeeded") << waited.out;
  std::vector<std::string> progress = Lines(waited.err);
  ASSERT_FALSE(progress.empty());
  for (auto& line : progress) {
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_EQ(j.at("job"), 1) << line;
  }
  EXPECT_EQ(json::parse(progress.back()).at("state"), "succeeded");

  // A job that fails (its mapper exits 3 on every attempt): exit 1, and no output shown.
  std::vector<std::string> failing = {"submit", "--master", master, "--mapper", "exit 3", "--input", tmp_ / "in.txt",
                                      "--output", tmp_ / "out3", "--wait"};
  CommandResult failed = RunMr(failing, Millis(120000));
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_TRUE(Contains(failed.out, "job 3 failed")) << failed.out;
  EXPECT_FALSE(Contains(failed.out, "lines of the output")) << failed.out;
  // It leaves its output path as it found it: nothing there, and the same output accepted again.
  EXPECT_FALSE(fs::exists(tmp_ / "out3"));
  EXPECT_EQ(RunMr(Submit("out3", {"--quiet"}), Millis(20000)).exit_code, 0);
}

// A job that cannot run says why: a streaming job on a cluster whose workers do not run user code
// waits, and mr status and the progress say so and what to do, until a worker that does joins.
TEST_F(CliTest, AUserCodeJobWithNowhereToRunSaysWhy) {
  ASSERT_TRUE(cluster_.StartMaster({"--allow-user-code"}).ok());
  const std::string master = cluster_.master_address();
  ASSERT_TRUE(cluster_.StartWorker({"--allow-user-code=false"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  CommandResult submit = RunMr({"submit", "--master", master, "--mapper", "cat", "--input", tmp_ / "in.txt",
                                "--output", tmp_ / "out", "--quiet"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string why = "no live worker runs user code: start workers with --allow-user-code";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  JobState s;
  while (std::chrono::steady_clock::now() < deadline) {
    s = cluster_.Job(1);
    if (s.answered && json::parse(s.json).value("waiting", "") == why) break;
    std::this_thread::sleep_for(Millis(50));
  }
  ASSERT_EQ(json::parse(s.json).value("waiting", ""), why) << s.json;
  CommandResult status = RunMr({"status", "1", "--master", master});
  EXPECT_TRUE(Contains(status.out, "  waiting   " + why)) << status.out;
  // A worker that runs user code joins: the job runs, and nothing holds it any more.
  ASSERT_TRUE(cluster_.StartWorker({"--allow-user-code"}).ok());
  s = cluster_.WaitForJob(1, std::chrono::seconds(60));
  ASSERT_EQ(s.state, "succeeded") << s.json;
  EXPECT_FALSE(json::parse(s.json).contains("waiting")) << s.json;
}

TEST_F(CliTest, RunShowsTheFirstLinesAndCatPrintsThePartsInOrder) {
  const std::string out = tmp_ / "out";
  CommandResult run = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "in.txt", "--output", out, "--reducers",
                             "3", "--show", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Contains(run.out, "first 2 lines (all: mr cat " + out + "):\n")) << run.out;

  std::string all = ReadJobOutput(out, 3);
  CommandResult cat = RunMr({"cat", out});
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_EQ(cat.out, all);
  std::vector<std::string> lines = Lines(all);
  ASSERT_GE(lines.size(), 3u);
  CommandResult head = RunMr({"cat", out, "--head", "2"});
  EXPECT_EQ(head.out, lines[0] + "\n" + lines[1] + "\n");
  EXPECT_EQ(RunMr({"cat", out, "-n", "0"}).out, "");

  // Without _SUCCESS the output is not a job's whole result: refused unless --partial.
  fs::remove(fs::path(out) / "_SUCCESS");
  CommandResult refused = RunMr({"cat", out});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_TRUE(Contains(refused.err, "has no _SUCCESS")) << refused.err;
  EXPECT_TRUE(Contains(refused.err, "--partial")) << refused.err;
  EXPECT_EQ(RunMr({"cat", out, "--partial"}).out, all);
  CommandResult missing = RunMr({"cat", tmp_ / "nothing-here"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "does not exist")) << missing.err;

  CommandResult none = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "out0",
                              "--show", "0"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_FALSE(Contains(none.out, "lines")) << none.out;
  EXPECT_FALSE(Contains(none.out, "alpha")) << none.out;
}

// A run whose workers all die cannot finish its job: `mr run` says so at once, with how each
// ended, instead of waiting for workers that will never come.
TEST_F(CliTest, RunEndsWhenEveryWorkerHasExited) {
  const std::string out = tmp_ / "out";
  CommandResult run = RunCommand({"/usr/bin/env", "MR_FAILPOINTS=map.start=crash", MrBinary(), "run", "--job",
                                  "wordcount", "--input", tmp_ / "in.txt", "--output", out, "--workers", "2",
                                  "--keep-logs", tmp_ / "logs"},
                                 Millis(120000));
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_TRUE(Contains(run.err, "every worker exited (worker-0 exit code 137, worker-1 exit code 137)")) << run.err;
  EXPECT_TRUE(Contains(run.err, "logs of the master and workers are in")) << run.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliHelpTest, HelpVersionAndDidYouMean) {
  CommandResult version = RunMr({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(version.out.starts_with("mr ")) << version.out;
  EXPECT_EQ(RunMr({"version"}).out, version.out);

  CommandResult help = RunMr({"help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"wait", "cat", "jobs-available", "help", "Exit codes"}) {
    EXPECT_TRUE(Contains(help.out, command)) << command << "\n" << help.out;
  }
  CommandResult run = RunMr({"help", "run"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(Contains(run.out, "--workers")) << run.out;

  CommandResult wordcount = RunMr({"help", "wordcount"});
  EXPECT_EQ(wordcount.exit_code, 0);
  EXPECT_TRUE(Contains(wordcount.out, "lowercase")) << wordcount.out;
  EXPECT_TRUE(Contains(wordcount.out, "(default false)")) << wordcount.out;
  CommandResult grep = RunMr({"help", "job", "grep"});
  EXPECT_TRUE(Contains(grep.out, "pattern")) << grep.out;
  EXPECT_TRUE(Contains(grep.out, "(required)")) << grep.out;
  CommandResult topn = RunMr({"help", "topn"});
  EXPECT_TRUE(Contains(topn.out, "(default 10)")) << topn.out;

  CommandResult available = RunMr({"jobs-available"});
  EXPECT_EQ(available.exit_code, 0);
  for (const char* job : {"grep", "invertedindex", "terasort", "topn", "wordcount", "[args: pattern]"}) {
    EXPECT_TRUE(Contains(available.out, job)) << job << "\n" << available.out;
  }

  CommandResult typo = RunMr({"jbos"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(Contains(typo.err, "unknown command 'jbos'; did you mean jobs?")) << typo.err;
  CommandResult flag = RunMr({"run", "--workrs", "2", "--job", "wordcount", "--input", "x", "--output", "y"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_TRUE(Contains(flag.err, "unknown flag --workrs for mr run; did you mean --workers?")) << flag.err;
  CommandResult job = RunMr({"help", "wordcont"});
  EXPECT_EQ(job.exit_code, 2);
  EXPECT_TRUE(Contains(job.err, "did you mean wordcount?")) << job.err;
  CommandResult nothing = RunMr({});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_TRUE(Contains(nothing.err, "Subcommands:")) << nothing.err;
}

// One mistake, one answer: the same kind of mistake gets the same exit code wherever it is made,
// global options are accepted by every command, and help reads as plain words.
TEST(CliGrammarTest, OneMistakeOneAnswer) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "--input", dir / "in.txt", "--output", dir / "out"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMr(args, Millis(60000));
  };
  // An unknown job and a job's unknown argument: 1, as --job or as a --then step, before any cluster.
  for (auto [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--job", "wordcont"}, "unknown job 'wordcont'"},
           {{"--job", "wordcount", "--then", "topnn"}, "--then topnn: unknown job 'topnn'"},
           {{"--job", "wordcount", "--arg", "nosuch=1"}, "has no argument 'nosuch'"},
           {{"--job", "wordcount", "--then", "topn m=10"}, "--then topn m=10: job topn has no argument 'm'"}}) {
    CommandResult r = run(args);
    EXPECT_EQ(r.exit_code, 1) << fmt::format("{}", fmt::join(args, " ")) << r.err;
    EXPECT_TRUE(Contains(r.err, message)) << r.err;
  }
  // A near-miss flag gets a suggestion whichever way it is missed.
  CommandResult reducer = run({"--job", "wordcount", "--reducer", "2"});
  EXPECT_EQ(reducer.exit_code, 2);
  EXPECT_TRUE(Contains(reducer.err, "did you mean --reducers?")) << reducer.err;
  CommandResult worker = run({"--job", "wordcount", "--worker", "2"});
  EXPECT_EQ(worker.exit_code, 2);
  EXPECT_TRUE(Contains(worker.err, "did you mean --workers?")) << worker.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // Global options before any command, also those that do not use them.
  CommandResult version = RunMr({"--json", "--token-file", dir / "none", "version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(json::parse(version.out).contains("version")) << version.out;
  CommandResult cat = RunMr({"--master", "127.0.0.1:1", "--json", "cat", dir / "missing"});
  EXPECT_EQ(cat.exit_code, 1) << cat.err;  // refused for the missing output, not for the options
  EXPECT_TRUE(Contains(cat.err, "missing")) << cat.err;
  CommandResult report = RunMr({"--master", "127.0.0.1:1", "report", dir / "missing"});
  EXPECT_EQ(report.exit_code, 1) << report.err;
  CommandResult help = RunMr({"help"});
  for (const char* flag : {"--master HOST:PORT", "--token-file PATH", "--json"}) {
    EXPECT_TRUE(Contains(help.out, flag)) << help.out;
  }

  // Help without parser noise, named as it is typed.
  for (const char* cmd : {"master", "worker", "submit", "run", "cat", "report", "teragen", "logs", "wait"}) {
    CommandResult h = RunMr({"help", cmd});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_TRUE(Contains(h.out, fmt::format("Usage: mr {} ", cmd))) << h.out;
    EXPECT_FALSE(Contains(h.out, "INT")) << h.out;
    EXPECT_FALSE(Contains(h.out, " in [")) << h.out;
    EXPECT_FALSE(Contains(h.out, "[0 - ")) << h.out;
  }
  // "How many lines" is --show everywhere (the older names still work).
  EXPECT_TRUE(Contains(RunMr({"help", "cat"}).out, "--show")) << RunMr({"help", "cat"}).out;
  EXPECT_TRUE(Contains(RunMr({"help", "report"}).out, "--show")) << RunMr({"help", "report"}).out;
}

TEST(CliAddressTest, OptionsBeforeTheCommandWrongTokenAndTheHttpPort) {
  TempDir dir;
  auto token = [&](const std::string& name, const std::string& text) {
    WriteFile(dir / name, text + "\n");
    ::chmod((dir / name).c_str(), 0600);
    return dir / name;
  };
  std::string good = token("good", "the-token"), bad = token("bad", "another-token");
  Cluster cluster(dir.path());
  ASSERT_TRUE(cluster.StartMaster({"--token-file", good}).ok());

  CommandResult jobs = RunMr({"--master", cluster.master_address(), "--token-file=" + good, "jobs", "--json"});
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(jobs.out, "[]\n");

  CommandResult wrong = RunMr({"--master", cluster.master_address(), "--token-file", bad, "jobs"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;  // refused, not unreachable
  EXPECT_TRUE(Contains(wrong.err, "the master refused the connection")) << wrong.err;

  CommandResult http = RunMr({"jobs", "--master", cluster.http_address(), "--token-file", good});
  EXPECT_EQ(http.exit_code, 3);
  EXPECT_TRUE(Contains(http.err, cluster.http_address() + " answered without TLS")) << http.err;
  EXPECT_TRUE(Contains(http.err, "not an mr RPC port")) << http.err;
  EXPECT_FALSE(Contains(http.err, "exceeds the limit")) << http.err;
}

}  // namespace
}  // namespace mr::testing
