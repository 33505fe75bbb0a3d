// End to end: real master and worker processes on loopback, driven through the mr binary, compared
// byte for byte with an independent reference word count (tests/reference/wordcount.py).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <random>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;

// Text that exercises the word definition and the split reader: non-Latin letters, combining
// marks, invalid UTF-8, CRLF, no final newline, an empty file, a 1 MB line, and files that must be
// skipped because their names start with '_' or '.'.
std::vector<std::string> MakeInputs(const std::string& dir) {
  fs::create_directories(dir);
  std::vector<std::string> counted;
  auto add = [&](const std::string& name, const std::string& text) {
    WriteFile(dir + "/" + name, text);
    counted.push_back(dir + "/" + name);
  };
  add("unicode.txt",
      "Café naïve façade — Ελληνικά λέξεις, русский текст; 漢字かな交じり文 한국어\n"
      "e\xcc\x81t\xc3\xa9 bad\xc3" "bytes\xff\xfehere \xed\xa0\x80surrogate over\xf4\x90\x80\x80long\n"
      "under_score digits123and456 tab\there\n");
  add("crlf.txt", "windows line\r\nanother line\r\n\r\nlast windows\r\n");
  add("nofinal.txt", "no final newline at the end");
  add("empty.txt", "");
  std::mt19937 rng(12345);
  const char* words[] = {"alpha", "beta", "Gamma", "delta", "épsilon", "zeta", "ηta", "θήτα", "iota", "kappa"};
  std::string big;
  for (int line = 0; line < 40000; line++) {
    int n = rng() % 12;
    for (int i = 0; i < n; i++) {
      big += words[rng() % 10];
      big += (rng() % 7 == 0) ? ", " : " ";
    }
    big += "\n";
  }
  std::string huge_line;
  while (huge_line.size() < (1 << 20)) huge_line += "megaline word ";
  big += huge_line + "\n";
  add("big.txt", big);
  WriteFile(dir + "/_SKIPPED.txt", "zzskippedword\n");
  WriteFile(dir + "/.hidden", "zzhiddenword\n");
  return counted;
}

class ClusterTest : public ::testing::Test {
 protected:
  TempDir tmp_;
};

// A listening socket on 127.0.0.1:port, so that a restarted worker cannot get that port back.
struct PortHolder {
  explicit PortHolder(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 1) == 0;
  }
  ~PortHolder() { ::close(fd); }
  int fd;
  bool bound;
};

// A worker's name lives in its data dir: restarted there on a new port, after the master restarted
// too, it is the same worker under the same name (README: "a name means the same worker across
// master restarts"), where it used to take its new port as its name.
TEST_F(ClusterTest, AWorkerKeepsItsNameAcrossItsRestartAndTheMasters) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  ASSERT_TRUE(cluster.StartWorker().ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  auto workers = [&] {
    CommandResult r = RunMr({"workers", "--master", cluster.master_address(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  nlohmann::json before = workers();
  ASSERT_EQ(before.size(), 1u) << before.dump();
  const std::string name = before[0]["id"], address = before[0]["shuffle_address"];
  ASSERT_EQ(name, address);  // named by its shuffle address at first

  cluster.SignalWorker(0, SIGKILL);
  cluster.KillMaster();
  PortHolder old_port(std::stoi(address.substr(address.rfind(':') + 1)));
  ASSERT_TRUE(old_port.bound) << "cannot hold " << address;
  ASSERT_TRUE(cluster.RestartMaster().ok());
  ASSERT_TRUE(cluster.RestartWorker(0).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  nlohmann::json after = workers();
  ASSERT_EQ(after.size(), 1u) << after.dump();
  EXPECT_NE(after[0]["shuffle_address"], address) << "the restarted worker got its old port back";
  EXPECT_EQ(after[0]["id"], name) << after.dump();
}

TEST_F(ClusterTest, WordCountOnThreeWorkersWithManySplits) {
  std::vector<std::string> files = MakeInputs(tmp_ / "in");
  std::vector<std::string> inputs = {tmp_ / "in"};
  std::string books = GutenbergDir();
  if (!books.empty()) {
    inputs.push_back(books);
    for (auto& e : fs::directory_iterator(books)) files.push_back(e.path().string());
  }
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  for (int i = 0; i < 3; i++) ASSERT_TRUE(cluster.StartWorker({"--slots", "2"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(3).ok());

  std::vector<std::string> args = {"submit", "--master", cluster.master_address(), "--job", "wordcount",
                                   "--output", tmp_ / "out", "--reducers", "5", "--split-size", "64k", "--wait",
                                   "--input"};
  args.insert(args.end(), inputs.begin(), inputs.end());
  CommandResult r = RunMr(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("succeeded"), std::string::npos) << r.out;

  std::string output = ReadJobOutput(tmp_ / "out", 5);
  std::string expected = ReferenceWordCount(files);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(SortLines(output), expected);
  EXPECT_EQ(output.find("zzskippedword"), std::string::npos);
  EXPECT_EQ(output.find("zzhiddenword"), std::string::npos);

  // Each part file is sorted by key and holds only keys of its partition once.
  for (int p = 0; p < 5; p++) {
    std::string part = ReadFile(fmt::format("{}/part-r-{:05}", tmp_ / "out", p));
    EXPECT_EQ(SortLines(part), part) << "part " << p << " is not sorted";
  }

  // The job is listed as succeeded, with many more map tasks than workers.
  CommandResult status = RunMr({"status", "1", "--master", cluster.master_address(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"state\": \"succeeded\""), std::string::npos) << status.out;
  CommandResult jobs = RunMr({"jobs", "--master", cluster.master_address()});
  EXPECT_EQ(jobs.exit_code, 0);
  EXPECT_NE(jobs.out.find("succeeded"), std::string::npos) << jobs.out;
}

// Map output compressed with each codec (DESIGN §3): the same output byte for byte, the same
// raw shuffle, and less of it sent when compressed. Reducers merge straight from the network on
// two workers and through local run files on the third (a merge factor below the map count); the
// input has binary bytes, invalid UTF-8, CRLF and a 1 MB line.
TEST_F(ClusterTest, EachIntermediateCodecGivesTheSameOutput) {
  MakeInputs(tmp_ / "in");
  std::vector<std::string> inputs = {tmp_ / "in"};
  if (std::string books = GutenbergDir(); !books.empty()) inputs.push_back(books);
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  for (int i = 0; i < 3; i++) {
    std::vector<std::string> flags = {"--slots", "2"};
    if (i == 2) flags.insert(flags.end(), {"--merge-factor", "4"});
    ASSERT_TRUE(cluster.StartWorker(flags).ok());
  }
  ASSERT_TRUE(cluster.WaitForWorkers(3).ok());
  std::map<std::string, std::string> outputs;
  std::map<std::string, nlohmann::json> counters;
  for (std::string codec : {"none", "lz4", "zstd"}) {
    std::vector<std::string> args = {"submit", "--master", cluster.master_address(), "--job", "grep", "--arg",
                                     "pattern=.", "--output", tmp_ / ("out-" + codec), "--reducers", "3",
                                     "--split-size", "256k", "--intermediate-codec", codec, "--json", "--input"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    CommandResult r = RunMr(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string id = std::to_string(nlohmann::json::parse(r.out).at("id").get<uint64_t>());
    JobState js = cluster.WaitForJob(std::stoull(id), std::chrono::seconds(120));
    ASSERT_EQ(js.state, "succeeded") << js.json;
    nlohmann::json j = nlohmann::json::parse(js.json);
    EXPECT_EQ(j.at("intermediate_codec"), codec);
    counters[codec] = j.at("counters");
    outputs[codec] = ReadJobOutput(tmp_ / ("out-" + codec), 3);
  }
  ASSERT_GT(outputs["none"].size(), 1u << 20);
  EXPECT_TRUE(outputs["lz4"] == outputs["none"]);
  EXPECT_TRUE(outputs["zstd"] == outputs["none"]);
  const auto raw = counters["none"].at("shuffle.raw.bytes").get<int64_t>();
  EXPECT_GE(counters["none"].at("shuffle.bytes").get<int64_t>(), raw);  // block headers, nothing saved
  for (std::string codec : {"lz4", "zstd"}) {
    EXPECT_EQ(counters[codec].at("shuffle.raw.bytes").get<int64_t>(), raw) << codec;
    EXPECT_LT(counters[codec].at("shuffle.bytes").get<int64_t>(), raw * 2 / 3) << codec;
    EXPECT_LT(counters[codec].at("map.output.compressed.bytes").get<int64_t>(),
              counters[codec].at("map.output.bytes").get<int64_t>() * 2 / 3) << codec;
  }
}

TEST_F(ClusterTest, MrRunMatchesTheReference) {
  std::vector<std::string> files = MakeInputs(tmp_ / "in");
  CommandResult r = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "in", "--output", tmp_ / "out",
                           "--workers", "2", "--reducers", "3", "--split-size", "32k"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("peak memory"), std::string::npos) << r.out;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "out", 3)), ReferenceWordCount(files));
}

TEST_F(ClusterTest, LowercaseArgumentFoldsCase) {
  std::vector<std::string> files = MakeInputs(tmp_ / "in");
  CommandResult r = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "in", "--output", tmp_ / "out",
                           "--arg", "lowercase=true", "--workers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "out", 1)), ReferenceWordCount(files, /*lowercase=*/true));
}

TEST_F(ClusterTest, EmptyInputGivesEmptyParts) {
  WriteFile(tmp_ / "empty.txt", "");
  CommandResult r = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "empty.txt", "--output",
                           tmp_ / "out", "--reducers", "2", "--workers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "out", 2), "");
}

TEST_F(ClusterTest, QueuedJobsAllRunWhenAWorkerComes) {
  std::vector<std::string> files = MakeInputs(tmp_ / "in");
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  std::vector<std::string> ids;
  for (int j = 0; j < 3; j++) {
    CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                             tmp_ / "in", "--output", tmp_ / fmt::format("out{}", j), "--split-size", "16k", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(r.out.substr(0, r.out.find('\n')));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3"}));
  // Queued until a worker comes.
  CommandResult st = RunMr({"status", "3", "--master", cluster.master_address()});
  EXPECT_NE(st.out.find("queued"), std::string::npos) << st.out;
  ASSERT_TRUE(cluster.StartWorker().ok());
  for (int j = 0; j < 3; j++) {
    CommandResult w = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                             tmp_ / "in", "--output", tmp_ / fmt::format("again{}", j), "--wait"});
    ASSERT_EQ(w.exit_code, 0) << w.err;
  }
  std::string expected = ReferenceWordCount(files);
  for (int j = 0; j < 3; j++) EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / fmt::format("out{}", j), 1)), expected);
}

// Each bad request gets one clear line on stderr and a non-zero exit; nothing is left behind.
class ErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(tmp_ / "in.txt", "some words\n");
    ASSERT_TRUE(cluster_.StartMaster().ok());
  }
  CommandResult Submit(std::vector<std::string> extra) {
    std::vector<std::string> args = {"submit", "--master", cluster_.master_address()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMr(args);
  }
  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

TEST_F(ErrorTest, UnknownJob) {
  auto r = Submit({"--job", "nosuchjob", "--input", tmp_ / "in.txt", "--output", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown job 'nosuchjob'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
}

TEST_F(ErrorTest, MissingInput) {
  auto r = Submit({"--job", "wordcount", "--input", tmp_ / "nope.txt", "--output", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  auto g = Submit({"--job", "wordcount", "--input", tmp_ / "*.nothing", "--output", tmp_ / "out"});
  EXPECT_EQ(g.exit_code, 1);
  EXPECT_NE(g.err.find("matches no file"), std::string::npos) << g.err;
}

TEST_F(ErrorTest, OutputExists) {
  fs::create_directories(tmp_ / "out");
  WriteFile(tmp_ / "out/keep.txt", "precious");
  auto r = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(tmp_ / "out/keep.txt"), "precious");
}

TEST_F(ErrorTest, BadArgument) {
  auto r = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "out", "--arg",
                   "lowercase=maybe"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lowercase"), std::string::npos) << r.err;
}

TEST_F(ErrorTest, BadFlags) {
  auto r = RunMr({"submit", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("mr:"), std::string::npos) << r.err;
  auto s = RunMr({"run", "--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "o",
                  "--split-size", "12q"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("--split-size"), std::string::npos) << s.err;
  auto st = RunMr({"status", "notanid", "--master", cluster_.master_address()});
  EXPECT_EQ(st.exit_code, 2);
  // An id too large for 64 bits is bad usage too, not a crash.
  for (std::string command : {"status", "kill"}) {
    auto big = RunMr({command, "99999999999999999999999", "--master", cluster_.master_address()});
    EXPECT_EQ(big.exit_code, 2) << command;
    EXPECT_EQ(big.err, "mr: bad job id '99999999999999999999999'\n") << command;
  }
  auto h = RunMr({"submit", "--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--split-size"), std::string::npos);
}

TEST_F(ErrorTest, UnreachableMaster) {
  cluster_.StopAll();
  auto r = RunMr({"jobs", "--master", cluster_.master_address()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("cannot reach the master"), std::string::npos) << r.err;
  auto s = RunMr({"submit", "--master", cluster_.master_address(), "--job", "wordcount", "--input",
                  tmp_ / "in.txt", "--output", tmp_ / "out"});
  EXPECT_EQ(s.exit_code, 3);
}

TEST_F(ErrorTest, UnknownJobIdAndKill) {
  auto r = RunMr({"status", "99", "--master", cluster_.master_address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no job 99"), std::string::npos) << r.err;
  auto sub = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "out"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  auto k = RunMr({"kill", "1", "--master", cluster_.master_address()});
  EXPECT_EQ(k.exit_code, 0) << k.err;
  auto st = RunMr({"status", "1", "--master", cluster_.master_address()});
  EXPECT_NE(st.out.find("killed"), std::string::npos) << st.out;
  auto again = RunMr({"kill", "1", "--master", cluster_.master_address()});
  EXPECT_EQ(again.exit_code, 1);
}

}  // namespace
}  // namespace mr::testing
