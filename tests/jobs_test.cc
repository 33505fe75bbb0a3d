// End to end: the built-in analytics jobs (grep, invertedindex, logs, topn) run through `mr run` on
// real master and worker processes, compared byte for byte with independent reference
// implementations written in Python from DESIGN §4 (tests/reference/*.py). Each job runs with 1 and 3
// reducers and with 16k splits (lines cross split boundaries) as well as the default split size.
// Inputs: generated access logs (scripts/gen_logs.py), hand-written edge cases, and the Gutenberg
// books when they are present.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <regex>

#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;

struct Config {
  int reducers;
  std::string split_size;  // "" for the default
  int threads;
};
// Small splits make lines cross split boundaries; the default split lets a 1 MiB+ split use threads.
const Config kConfigs[] = {{1, "", 2}, {3, "16k", 1}};

std::string Describe(const Config& c) {
  return fmt::format("reducers={} split={} threads={}", c.reducers,
                     c.split_size.empty() ? "default" : c.split_size, c.threads);
}

// The value of a user counter in `mr run`'s summary ("  name   N"); 0 when it is not listed.
int64_t CounterValue(const std::string& summary, const std::string& name) {
  std::smatch m;
  std::regex re("\n  " + std::regex_replace(name, std::regex("\\."), "\\.") + " +(-?[0-9]+)\n");
  return std::regex_search(summary, m, re) ? std::stoll(m[1]) : 0;
}

// python3 tests/reference/SCRIPT ARGS...; fails the test unless it exits 0.
CommandResult Reference(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", "python3", SourceDir() + "/tests/reference/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
  return r;
}

// "logs.malformed 12\n" on a reference's stderr.
int64_t ReferenceCounter(const CommandResult& r, const std::string& name) {
  size_t at = r.err.find(name + " ");
  return at == std::string::npos ? -1 : std::stoll(r.err.substr(at + name.size() + 1));
}

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Inputs shared by every test, written once.
class JobsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    MakeLogs();
    MakeText();
    MakeNumbers();
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  static std::string In(const std::string& name) { return *tmp_ / name; }

  static void Add(std::vector<std::string>* files, const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    WriteFile(path, text);
    files->push_back(path);
  }

  // Logs: two generated files (in a directory and a subdirectory) and the edge-case file.
  static void MakeLogs() {
    using Gen = std::tuple<std::string, std::string, std::string>;
    for (auto [name, mb, seed] :
         {Gen{"logs/access-1.log", "3", "11"}, Gen{"logs/sub/access-2.log", "1", "12"}}) {
      fs::create_directories(fs::path(In(name)).parent_path());
      CommandResult r = RunCommand({"/bin/sh", "-c", "exec python3 \"$0\" \"$1\" --seed \"$2\" > \"$3\"",
                                    SourceDir() + "/scripts/gen_logs.py", mb, seed, In(name)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      log_files_.push_back(In(name));
    }
    std::string edge = EdgeLog();
    Add(&log_files_, In("logs/edge.log"), edge);
    WriteFile(In("logs/_SKIPPED.log"), std::string(kValidLines[0]) + "\n");  // not input: starts with '_'
  }

  // Valid and malformed lines of every kind the definition names; kEdgeValid lines are valid.
  static constexpr const char* kValidLines[] = {
      R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)",
      R"L(2001:db8::1 - - [31/Dec/2023:20:00:00 -0800] "POST /api?x=1&y=%20 HTTP/2.0" 201 - "https://ref.example/" "agent (x; y)")L",
      R"(crawl-1.googlebot.com - - [01/Jan/2024:02:00:00 +0530] "HEAD / HTTP/1.1" 304 -)",
      R"(h - - [29/Feb/2024:12:00:00 +0000] "GET /leap" 200 10)",
      "::1 - - [01/Mar/2024:05:00:00 +0545] \"GET /caf\xc3\xa9 HTTP/1.1\" 404 0",
      "10.0.0.1 - - [28/Feb/2023:23:30:00 -0100] \"GET /tab HTTP/1.1\" 200 7 \"-\" \"a\tb\" extra fields",
  };
  static constexpr int kEdgeValid = 6 + 4;  // kValidLines, a CRLF line, two 1 MB lines, the last line
  static constexpr int kEdgeMalformed = 12;

  static std::string EdgeLog() {
    std::string s;
    for (const char* line : kValidLines) s += std::string(line) + "\n";
    s += std::string(kValidLines[0]) + "\r\n";  // CRLF: the '\r' is not part of the line
    std::string mb(1 << 20, 'a');
    s += "big.example - - [29/Feb/2024:23:59:59 -0800] \"GET /" + mb + " HTTP/1.1\" 200 1048576\n";
    s += std::string(kValidLines[0]) + " \"-\" \"" + mb + "\"\n";
    // Malformed, kEdgeMalformed of them: impossible dates, times and zones, a truncated line, binary
    // garbage (NULs and a '\r' inside), a 1 MB garbage line, a 1 MB line with an unclosed quote, an
    // empty line, a junk request and a 4-digit status.
    static constexpr char kBinary[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\r garbage \x80";
    const std::string malformed[] = {
        R"(h - - [29/Feb/2023:12:00:00 +0000] "GET /noleap HTTP/1.1" 200 1)",
        R"(h - - [31/Feb/2024:12:00:00 +0000] "GET /feb31 HTTP/1.1" 200 1)",
        R"(h - - [10/Oct/2000:24:00:00 +0000] "GET /hour24 HTTP/1.1" 200 1)",
        R"(h - - [10/Foo/2000:13:55:36 +0000] "GET /month HTTP/1.1" 200 1)",
        R"(h - - [10/Oct/2000:13:55:36 +2400] "GET /zone HTTP/1.1" 200 1)",
        R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTT)",
        std::string(kBinary, sizeof(kBinary) - 1),
        std::string(1 << 20, 'x'),
        "big - - [01/Jan/2024:00:00:00 +0000] \"GET /" + mb + " HTTP/1.1 200 5",
        "",
        R"(10.1.1.1 - - [01/Jan/2024:00:00:00 +0000] "-" 400 0)",
        R"(h - - [01/Jan/2024:00:00:00 +0000] "GET /x HTTP/1.1" 2000 1)",
    };
    static_assert(sizeof(malformed) / sizeof(malformed[0]) == kEdgeMalformed);
    for (const std::string& line : malformed) s += line + "\n";
    s += R"(last - - [01/Mar/2024:00:30:00 +0100] "GET /last HTTP/1.1" 200 1)";  // valid, no final '\n'
    return s;
  }

  // Text: edge cases, two files with the same base name, and the Gutenberg books when present.
  static void MakeText() {
    Add(&text_files_, In("text/unicode.txt"),
        "Café naïve façade — Ελληνικά λέξεις, русский текст; 漢字かな交じり文 한국어\n"
        "e\xcc\x81t\xc3\xa9 bad\xc3"
        "bytes\xff\xfehere café\n"
        "the whale and the Holmes\n");
    Add(&text_files_, In("text/crlf.txt"), "windows line\r\nthe whale line\r\n\r\nlast windows\r\n");
    Add(&text_files_, In("text/nofinal.txt"), "no final newline at the end, whale");
    Add(&text_files_, In("text/empty.txt"), "");
    Add(&text_files_, In("text/a/notes.txt"), "alpha beta café\n\nWhale\n");
    Add(&text_files_, In("text/b/notes.txt"), "beta gamma\n");
    std::mt19937 rng(99);
    const char* words[] = {"alpha", "beta", "Gamma", "delta", "épsilon",
                           "zeta",  "ηta",  "whale", "iota",  "kappa"};
    std::string big;
    for (int line = 0; line < 20000; line++) {
      for (int i = rng() % 10; i > 0; i--) big += std::string(words[rng() % 10]) + (rng() % 5 ? " " : ", ");
      big += "\n";
    }
    std::string huge;
    while (huge.size() < (1 << 20)) huge += "megaline word ";
    big += huge + "whale\n";
    Add(&text_files_, In("text/big.txt"), big);
    WriteFile(In("text/.hidden"), "zzhiddenword whale\n");
    text_inputs_ = {In("text")};
    std::string books = GutenbergDir();
    if (!books.empty()) {
      text_inputs_.push_back(books);
      for (auto& e : fs::directory_iterator(books)) text_files_.push_back(e.path().string());
    }
  }

  // key<TAB>number lines: ties, negative and extreme numbers, malformed lines, and many generated.
  static void MakeNumbers() {
    Add(&number_files_, In("numbers/hand.txt"),
        // Valid: ties at 10 (keys "", "B", "a", "b" twice, ...), the extremes, "-0", leading zeros, a
        // key with a tab, a CRLF line and a last line without '\n'. Malformed: the five in the middle.
        "b\t10\n"
        "a\t10\n"
        "c\t10\n"
        "z\t9223372036854775807\n"
        "neg\t-9223372036854775808\n"
        "zero\t-0\n"
        "padded\t0010\n"
        "with\ttab\t10\n"
        "\t10\n"
        "B\t10\n"
        "b\t10\n"
        "not a number\n"
        "x\t1e3\n"
        "y\t\n"
        "nospace\t 5\n"
        "huge\t9223372036854775808\n"
        "crlf\t10\r\n"
        "café\t10\n"
        "last\t10");
    std::mt19937 rng(5);
    std::string gen;
    for (int i = 0; i < 120000; i++) {  // over 1 MiB: the default split maps it on 2 threads
      if (rng() % 100 == 0) {
        gen += "malformed line " + std::to_string(i) + "\n";
        continue;
      }
      gen += fmt::format("key{}\t{}\n", rng() % 5000, static_cast<int64_t>(rng() % 2000) - 100);
    }
    Add(&number_files_, In("numbers/gen.txt"), gen);
  }

  // `mr run` of `job` with `args`, checked to succeed.
  static CommandResult RunJob(const std::string& job, const std::vector<std::string>& inputs,
                              const std::string& out, const std::vector<std::string>& args, const Config& c) {
    std::vector<std::string> argv = {"run",
                                     "--job",
                                     job,
                                     "--output",
                                     out,
                                     "--workers",
                                     "2",
                                     "--reducers",
                                     std::to_string(c.reducers),
                                     "--threads",
                                     std::to_string(c.threads)};
    if (!c.split_size.empty()) argv.insert(argv.end(), {"--split-size", c.split_size});
    for (auto& a : args) argv.insert(argv.end(), {"--arg", a});
    argv.push_back("--input");
    argv.insert(argv.end(), inputs.begin(), inputs.end());
    CommandResult r = RunMr(argv);
    EXPECT_EQ(r.exit_code, 0) << job << " " << Describe(c) << "\n" << r.out << r.err;
    return r;
  }

  std::string Out(const std::string& name) { return out_ / name; }

  static TempDir* tmp_;
  static std::vector<std::string> log_files_, text_files_, text_inputs_, number_files_;
  TempDir out_;  // outputs, per test
};

TempDir* JobsTest::tmp_ = nullptr;
std::vector<std::string> JobsTest::log_files_, JobsTest::text_files_, JobsTest::text_inputs_,
    JobsTest::number_files_;

TEST_F(JobsTest, GrepMatchesTheReference) {
  struct Case {
    std::string pattern;
    Config config;
  };
  const Case cases[] = {
      {R"((?i)\bwhale\b|Holmes|café)", kConfigs[0]},
      {R"(^$|\d{3,}|[ηθ]\w*ta)", kConfigs[1]},
      {R"(" 50[0-9] |POST /api|^::1 |29/Feb/2024)", kConfigs[1]},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::vector<std::string> inputs = Cat(text_inputs_, {In("logs")});
    std::vector<std::string> files = Cat(text_files_, log_files_);
    std::string out = Out(fmt::format("grep{}", i++));
    RunJob("grep", inputs, out, {"pattern=" + c.pattern}, c.config);
    std::string expected = Reference("grep.py", Cat({c.pattern}, files)).out;
    EXPECT_GT(expected.size(), 0u) << c.pattern;
    std::string output = ReadJobOutput(out, c.config.reducers);
    EXPECT_TRUE(SortLines(output) == expected)
        << c.pattern << " " << Describe(c.config) << ": " << output.size() << " bytes vs " << expected.size()
        << " expected";
  }
}

TEST_F(JobsTest, InvertedIndexMatchesTheReference) {
  std::string expected = Reference("invertedindex.py", text_files_).out;
  ASSERT_FALSE(expected.empty());
  // The two notes.txt files are two files with one base name.
  EXPECT_NE(expected.find(",notes.txt,notes.txt"), std::string::npos);
  int i = 0;
  for (const Config& c : kConfigs) {
    std::string out = Out(fmt::format("ii{}", i++));
    RunJob("invertedindex", text_inputs_, out, {}, c);
    EXPECT_TRUE(SortLines(ReadJobOutput(out, c.reducers)) == expected) << Describe(c);
  }
  std::string lower = Reference("invertedindex.py", Cat({"--lowercase"}, text_files_)).out;
  RunJob("invertedindex", text_inputs_, Out("lower"), {"lowercase=true"}, {2, "64k", 1});
  EXPECT_TRUE(SortLines(ReadJobOutput(Out("lower"), 2)) == lower);
  EXPECT_EQ(lower.find("zzhiddenword"), std::string::npos);
}

TEST_F(JobsTest, LogsMatchesTheReferenceForEveryKeyAndMetric) {
  int i = 0;
  for (std::string by : {"status", "path", "host", "method", "hour", "day"}) {
    for (std::string metric : {"requests", "bytes"}) {
      const Config& c = kConfigs[i % 2];
      std::string out = Out(fmt::format("logs{}", i++));
      CommandResult run = RunJob("logs", {In("logs")}, out, {"by=" + by, "metric=" + metric}, c);
      CommandResult ref = Reference("logs.py", Cat({"--by", by, "--metric", metric}, log_files_));
      std::string what = by + "/" + metric + " " + Describe(c);
      EXPECT_TRUE(SortLines(ReadJobOutput(out, c.reducers)) == ref.out) << what;
      int64_t malformed = ReferenceCounter(ref, "logs.malformed");
      EXPECT_GT(malformed, kEdgeMalformed) << what;  // the generated files have malformed lines too
      EXPECT_EQ(CounterValue(run.out, "logs.malformed"), malformed) << what << "\n" << run.out;
    }
  }
}

// The groupings on the Combined fields, the time as written, and the filters, against the reference
// (whose regular expressions and tables share no code with the job).
TEST_F(JobsTest, LogsNewKeysAndFiltersMatchTheReference) {
  struct Case {
    std::vector<std::string> args;      // --arg KEY=VALUE
    std::vector<std::string> ref_args;  // logs.py flags
  };
  const Case cases[] = {
      {{"by=visitors"}, {"--by", "visitors"}},
      {{"by=visitors", "time=log"}, {"--by", "visitors", "--time", "log"}},
      {{"by=hour", "time=log", "metric=bytes"}, {"--by", "hour", "--time", "log", "--metric", "bytes"}},
      {{"by=referrer"}, {"--by", "referrer"}},
      {{"by=agent", "metric=bytes"}, {"--by", "agent", "--metric", "bytes"}},
      {{"by=browser"}, {"--by", "browser"}},
      {{"by=os"}, {"--by", "os"}},
      {{"by=file", "metric=bytes"}, {"--by", "file", "--metric", "bytes"}},
      {{"by=path", "status=404"}, {"--by", "path", "--status", "404"}},
      {{"by=host", "status=4xx", "metric=bytes"}, {"--by", "host", "--status", "4xx", "--metric", "bytes"}},
      {{"by=status", "method=GET"}, {"--by", "status", "--method", "GET"}},
      {{"by=path", "path-prefix=/api/", "method=POST"}, {"--by", "path", "--path-prefix", "/api/", "--method", "POST"}},
      {{"by=visitors", "status=2xx", "time=log"}, {"--by", "visitors", "--status", "2xx", "--time", "log"}},
  };
  int i = 0;
  for (const Case& k : cases) {
    const Config& c = kConfigs[i % 2];
    std::string out = Out(fmt::format("logs-new{}", i++));
    CommandResult run = RunJob("logs", {In("logs")}, out, k.args, c);
    CommandResult ref = Reference("logs.py", Cat(k.ref_args, log_files_));
    std::string what = fmt::format("{} {}", fmt::join(k.args, " "), Describe(c));
    EXPECT_GT(ref.out.size(), 0u) << what;
    EXPECT_TRUE(SortLines(ReadJobOutput(out, c.reducers)) == ref.out) << what;
    EXPECT_EQ(CounterValue(run.out, "logs.malformed"), ReferenceCounter(ref, "logs.malformed")) << what;
  }
}

// The edge-case file alone: the exact output and the exact count of malformed lines.
TEST_F(JobsTest, LogsEdgeCasesAreExact) {
  std::string edge = In("logs/edge.log");
  for (const Config& c : {kConfigs[0], kConfigs[1], Config{2, "4k", 1}}) {
    std::string out = Out("edge-" + std::to_string(c.reducers));
    CommandResult run = RunJob("logs", {edge}, out, {"by=day"}, c);
    EXPECT_EQ(SortLines(ReadJobOutput(out, c.reducers)),
              "2000-10-10\t3\n2023-03-01\t1\n2023-12-31\t1\n2024-01-01\t1\n2024-02-29\t3\n2024-03-01\t1\n")
        << Describe(c);
    EXPECT_EQ(CounterValue(run.out, "logs.malformed"), kEdgeMalformed) << Describe(c) << run.out;
  }
  CommandResult ref = Reference("logs.py", {"--by", "day", edge});
  EXPECT_EQ(ReferenceCounter(ref, "logs.malformed"), kEdgeMalformed);
  // The day counts above add up to the kEdgeValid valid lines.
  EXPECT_EQ(3 + 1 + 1 + 1 + 3 + 1, kEdgeValid);

  CommandResult bytes = RunJob("logs", {edge}, Out("edge-bytes"), {"by=path", "metric=bytes"}, kConfigs[1]);
  std::string ref_bytes = Reference("logs.py", {"--by", "path", "--metric", "bytes", edge}).out;
  EXPECT_TRUE(SortLines(ReadJobOutput(Out("edge-bytes"), 3)) == ref_bytes);
  EXPECT_NE(ref_bytes.find("/apache_pb.gif\t6978\n"), std::string::npos);
  EXPECT_EQ(CounterValue(bytes.out, "logs.malformed"), kEdgeMalformed);
}

// Differential check of the parser: generated lines with random byte edits (digits, separators,
// quotes, controls, month letters), deletions, insertions and truncations; about a third stay valid.
TEST_F(JobsTest, LogsAgreesWithTheReferenceOnMutatedLines) {
  std::string text = ReadFile(In("logs/access-1.log"));
  static constexpr char kAlphabet[] = "0123456789 /:[]\"-+\t\r\x00\x7f\x80\xff" "JanFebDecT";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  std::mt19937 rng(2024);
  std::string mutated;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    for (int edits = rng() % 3; edits > 0 && !line.empty(); edits--) {
      size_t i = rng() % line.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0: line[i] = c; break;
        case 1: line.erase(i, 1); break;
        case 2: line.insert(i, 1, c); break;
        default: line.resize(i);
      }
    }
    mutated += line + "\n";
  }
  std::string file = Out("mutated.log");
  WriteFile(file, mutated);
  for (std::string by : {"hour", "path"}) {
    CommandResult run = RunJob("logs", {file}, Out("mutated-" + by), {"by=" + by, "metric=bytes"}, kConfigs[1]);
    CommandResult ref = Reference("logs.py", {"--by", by, "--metric", "bytes", file});
    EXPECT_TRUE(SortLines(ReadJobOutput(Out("mutated-" + by), 3)) == ref.out) << by;
    int64_t malformed = ReferenceCounter(ref, "logs.malformed");
    EXPECT_GT(malformed, 1000);
    EXPECT_EQ(CounterValue(run.out, "logs.malformed"), malformed) << by;
  }
}

TEST_F(JobsTest, TopNMatchesTheReference) {
  int i = 0;
  for (int n : {1, 7, 1000000}) {
    for (const Config& c : kConfigs) {
      std::string out = Out(fmt::format("topn{}", i++));
      CommandResult run = RunJob("topn", {In("numbers")}, out, {fmt::format("n={}", n)}, c);
      CommandResult ref = Reference("topn.py", Cat({std::to_string(n)}, number_files_));
      std::string what = fmt::format("n={} {}", n, Describe(c));
      // Everything is in part 0, in order; the other parts are empty.
      EXPECT_TRUE(ReadFile(out + "/part-r-00000") == ref.out) << what;
      EXPECT_EQ(ReadJobOutput(out, c.reducers), ref.out) << what;
      EXPECT_EQ(CounterValue(run.out, "topn.malformed"), ReferenceCounter(ref, "topn.malformed")) << what;
    }
  }
  // Ties broken by key, bytewise; canonical numbers; the key is everything before the last tab.
  CommandResult run = RunJob("topn", {In("numbers/hand.txt")}, Out("hand"), {"n=9"}, kConfigs[0]);
  EXPECT_EQ(ReadJobOutput(Out("hand"), 1),
            "z\t9223372036854775807\n\t10\nB\t10\na\t10\nb\t10\nb\t10\nc\t10\ncaf\xc3\xa9\t10\ncrlf\t10\n");
  EXPECT_EQ(CounterValue(run.out, "topn.malformed"), 5);
  CommandResult all = Reference("topn.py", {"100", In("numbers/hand.txt")});
  EXPECT_NE(all.out.find("with\ttab\t10\n"), std::string::npos);
  EXPECT_NE(all.out.find("padded\t10\n"), std::string::npos);
  EXPECT_NE(all.out.find("zero\t0\n"), std::string::npos);
}

// "Top 10 paths by requests" is two jobs: logs by=path, then topn n=10 over its output directory.
TEST_F(JobsTest, TopTenPathsInTwoCommands) {
  RunJob("logs", {In("logs")}, Out("paths"), {"by=path"}, {3, "", 2});
  RunJob("topn", {Out("paths")}, Out("top10"), {"n=10"}, {1, "", 1});
  std::string top10 = ReadJobOutput(Out("top10"), 1);
  // The reference: logs.py's per-path counts, then topn.py over them.
  std::string counts = Reference("logs.py", Cat({"--by", "path"}, log_files_)).out;
  WriteFile(Out("ref-paths.txt"), counts);
  EXPECT_EQ(top10, Reference("topn.py", {"10", Out("ref-paths.txt")}).out);
  EXPECT_EQ(std::count(top10.begin(), top10.end(), '\n'), 10);
  EXPECT_EQ(top10.substr(0, 2), "/\t");  // the site's root is the hottest path
}

// Bad arguments are refused at submission with one clear line, and nothing is created.
TEST_F(JobsTest, BadArgumentsAreRefused) {
  Cluster cluster(out_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  struct Case {
    std::string job;
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {"grep", {}, "job grep needs --arg pattern=REGEX"},
      {"grep", {"pattern=a(b"}, "--arg pattern=a(b: invalid RE2 regular expression: missing )"},
      {"grep", {"pattern="}, "--arg pattern= is empty"},
      {"logs", {"by=url"}, "--arg by=url: want one of status, path, host, method, hour, day, visitors"},
      {"logs", {"status=40"}, "--arg status=40: want three digits (404) or a class (4xx)"},
      {"logs", {"metric=count"}, "--arg metric=count: want one of requests, bytes"},
      {"topn", {"n=0"}, "--arg n=0: want an integer from 1 to 10000000"},
      {"topn", {"n=ten"}, "--arg n=ten: want an integer"},
      {"invertedindex", {"lowercase=maybe"}, "--arg lowercase=maybe: want true or false"},
      {"topn", {"m=3"}, "job topn has no argument 'm' (it takes: n)"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {"submit", "--master", cluster.master_address(), "--job", c.job,
                                     "--input", In("numbers/hand.txt"), "--output", Out("refused")};
    for (auto& a : c.args) argv.insert(argv.end(), {"--arg", a});
    CommandResult r = RunMr(argv);
    EXPECT_EQ(r.exit_code, 1) << c.job;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(Out("refused")));
  }
  // A repeated key is a usage error, caught before anything is submitted.
  CommandResult twice = RunMr({"submit", "--master", cluster.master_address(), "--job", "logs", "--input",
                               In("numbers/hand.txt"), "--output", Out("refused"), "--arg", "by=path", "--arg",
                               "by=host"});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_EQ(twice.err, "mr: --arg by is given more than once\n");
  EXPECT_FALSE(fs::exists(Out("refused")));
}

// Input file names with TAB, LF and backslash reach grep keys and invertedindex values escaped,
// so every output line is still one key<TAB>value line; the lines themselves are left as written.
TEST_F(JobsTest, FileNamesInOutputAreEscaped) {
  fs::path dir = out_ / "odd-names";
  fs::create_directories(dir);
  WriteFile(dir / "tab\there.txt", "needle one\\x\n");
  WriteFile(dir / "new\nline.txt", "needle two\n");
  WriteFile(dir / "back\\slash.txt", "needle\tthree\n");
  RunJob("grep", {dir}, Out("grep"), {"pattern=needle"}, {1, "", 1});
  const std::string d = dir.string();
  EXPECT_EQ(ReadJobOutput(Out("grep"), 1),
            d + "/back\\\\slash.txt:000000000000\tneedle\tthree\n" +  //
            d + "/new\\nline.txt:000000000000\tneedle two\n" +        //
            d + "/tab\\there.txt:000000000000\tneedle one\\x\n");
  RunJob("invertedindex", {dir}, Out("index"), {}, {1, "", 1});
  std::string index = ReadJobOutput(Out("index"), 1);
  EXPECT_NE(index.find("needle\t3 back\\\\slash.txt,new\\nline.txt,tab\\there.txt\n"), std::string::npos) << index;
  EXPECT_EQ(std::count(index.begin(), index.end(), '\n'), 5) << index;  // needle one three two x
}

// Many small files are packed into a few combined splits, and read exactly once each.
TEST_F(JobsTest, ManySmallFilesRunAsFewMapTasks) {
  fs::path dir = out_ / "small";
  fs::create_directories(dir);
  for (int i = 0; i < 3000; i++) WriteFile(dir / fmt::format("f{:04}.txt", i), i % 2 ? "odd line\n" : "even");
  CommandResult run = RunJob("wordcount", {dir}, Out("small-count"), {}, {2, "", 1});
  EXPECT_EQ(SortLines(ReadJobOutput(Out("small-count"), 2)), "even\t1500\nline\t1500\nodd\t1500\n");
  EXPECT_NE(run.out.find(": 3 maps, 2 reduces"), std::string::npos) << run.out;
  EXPECT_EQ(CounterValue(run.out, "map.input.records"), 3000);
}

// A sum past the signed 64-bit range fails the job with one clear error on stderr; it never wraps.
TEST_F(JobsTest, SumOverflowFailsTheJobWithAClearError) {
  const std::string line = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /big HTTP/1.0\" 200 9223372036854775807\n";
  WriteFile(out_ / "huge.log", line + line);
  CommandResult r = RunMr({"run", "--job", "logs", "--arg", "by=path", "--arg", "metric=bytes", "--input",
                           out_ / "huge.log", "--output", Out("huge"), "--workers", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the sum for key '/big' does not fit in a signed 64-bit integer"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("-2\n"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(Out("huge") + "/_SUCCESS"));
  // One line of it sums exactly.
  WriteFile(out_ / "one.log", line);
  RunJob("logs", {out_ / "one.log"}, Out("one"), {"by=path", "metric=bytes"}, {1, "", 1});
  EXPECT_EQ(ReadJobOutput(Out("one"), 1), "/big\t9223372036854775807\n");
}

TEST_F(JobsTest, TooManyReducersAreRefused) {
  Cluster cluster(out_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  CommandResult r = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input",
                           In("numbers/hand.txt"), "--output", Out("refused"), "--reducers", "100000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--reducers 100000 is too many: at most 10000"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(Out("refused")));
}

}  // namespace
}  // namespace mr::testing
