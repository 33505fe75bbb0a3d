// Security end to end (DESIGN §6, issue 6): a cluster with a token refuses clients and workers with
// a wrong or missing token (nothing runs, the refusal is logged with the peer's address), a server
// without a token refuses a non-loopback address, user code needs --allow-user-code, and hostile
// connections (silent, thousands idle, out of order, unknown messages) are closed without harm to
// the other clients.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <thread>

#include "common/frame.h"
#include "common/handshake.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

using Millis = std::chrono::milliseconds;

std::string WriteToken(const TempDir& dir, const std::string& name, const std::string& token) {
  std::string path = dir / name;
  WriteFile(path, token + "\n");
  ::chmod(path.c_str(), 0600);
  return path;
}

void ExpectServing(const Cluster& c, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"jobs", "--master", c.master_address()};
  args.insert(args.end(), extra.begin(), extra.end());
  CommandResult r = RunMr(args, Millis(20000));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(SecurityTest, WrongOrMissingTokenIsRefusedAndNothingRuns) {
  TempDir dir;
  std::string good = WriteToken(dir, "good", "the-cluster-token");
  std::string bad = WriteToken(dir, "bad", "not-the-token");
  WriteFile(dir / "in.txt", "a b c a\n");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--token-file", good}).ok());
  ASSERT_TRUE(c.StartWorker({"--token-file", bad}).ok());  // refused: never joins
  // `mr workers` (used by WaitForWorkers) needs the token: it comes from MR_TOKEN here.
  ::setenv("MR_TOKEN", "the-cluster-token", 1);
  ASSERT_TRUE(WaitForText(dir / "worker-0.log", "cannot join the master")) << ReadFile(dir / "worker-0.log");
  CommandResult w = RunMr({"workers", "--master", c.master_address(), "--json"}, Millis(10000));
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out.find("\"id\""), std::string::npos) << w.out;  // no worker joined
  EXPECT_NE(ReadFile(dir / "worker-0.log").find("authentication failed"), std::string::npos);

  std::vector<std::string> submit = {"submit", "--master", c.master_address(), "--job", "wordcount",
                                     "--input", dir / "in.txt", "--output", dir / "out"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = submit;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  CommandResult wrong = RunMr(with({"--token-file", bad}), Millis(10000));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("mr: the master refused the connection: authentication failed"), std::string::npos)
      << wrong.err;
  std::vector<std::string> missing = {"/usr/bin/env", "-u", "MR_TOKEN", MrBinary()};
  for (auto& a : submit) missing.push_back(a);
  CommandResult none = RunCommand(missing, Millis(10000));
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("mr: the master refused the connection: authentication failed"), std::string::npos)
      << none.err;
  CommandResult jobs = RunMr({"jobs", "--master", c.master_address(), "--json"}, Millis(10000));
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(jobs.out.find("wordcount"), std::string::npos) << jobs.out;  // nothing was submitted
  std::string log = ReadFile(dir / "master.log");
  EXPECT_NE(log.find("refused 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("TLS handshake failed"), std::string::npos) << log;

  // With the right token everything works, including the reducers' fetches from shuffle servers.
  ASSERT_TRUE(c.StartWorker({"--token-file", good}).ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  CommandResult ok = RunMr(with({"--token-file", good, "--wait", "--reducers", "2"}), Millis(60000));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(SortLines(ReadJobOutput(dir / "out", 2)), "a\t2\nb\t1\nc\t1\n");
  ::unsetenv("MR_TOKEN");
}

TEST(SecurityTest, TokenFileReadableByOthersIsRefused) {
  TempDir dir;
  std::string path = dir / "token";
  WriteFile(path, "t\n");
  ::chmod(path.c_str(), 0644);
  CommandResult r = RunMr({"jobs", "--token-file", path}, Millis(10000));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("readable or writable by others"), std::string::npos) << r.err;
}

TEST(SecurityTest, NonLoopbackWithoutTokenRefusesToStart) {
  TempDir dir;
  CommandResult m = RunMr({"master", "--listen", "0.0.0.0:0", "--http", "127.0.0.1:0", "--data-dir", dir / "m"},
                          Millis(10000));
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("not a loopback address"), std::string::npos) << m.err;
  CommandResult h = RunMr({"master", "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0", "--data-dir", dir / "m"},
                          Millis(10000));
  EXPECT_EQ(h.exit_code, 2);
  EXPECT_NE(h.err.find("--http 0.0.0.0"), std::string::npos) << h.err;
  CommandResult w = RunMr({"worker", "--listen", "0.0.0.0:0", "--data-dir", dir / "w"}, Millis(10000));
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find("no cluster token"), std::string::npos) << w.err;
}

TEST(SecurityTest, UserCodeNeedsAllowUserCode) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--mapper", "cat", "--input",
                           dir / "in.txt", "--output", dir / "out"},
                          Millis(10000));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--allow-user-code"), std::string::npos) << r.err;
  CommandResult jobs = RunMr({"jobs", "--master", c.master_address(), "--json"}, Millis(10000));
  EXPECT_EQ(jobs.out.find("streaming"), std::string::npos) << jobs.out;
  EXPECT_EQ(jobs.out.find("\"id\""), std::string::npos) << jobs.out;
}

TEST(SecurityTest, SilentConnectionIsClosedAfterTheHelloDeadline) {
  TempDir dir;
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({}, {"MR_HELLO_TIMEOUT_MS=500"}).ok());
  int silent = RawConnect(c.master_address());
  ASSERT_GE(silent, 0);
  RawTls half(RawConnect(c.master_address()), "");  // TLS, and then no hello
  ASSERT_TRUE(half.ok()) << half.error();
  ExpectServing(c);  // others are served meanwhile
  EXPECT_TRUE(ClosedByPeer(silent, Millis(5000)));
  EXPECT_TRUE(half.ClosedByPeer(Millis(5000)));
  ::close(silent);
  EXPECT_NE(ReadFile(dir / "master.log").find("no hello within 500 ms"), std::string::npos);
  ExpectServing(c);
}

TEST(SecurityTest, ThousandsOfIdleConnectionsLeaveTheServerServing) {
  TempDir dir;
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  std::vector<int> fds;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < 2000 && std::chrono::steady_clock::now() < deadline; i++) {
    int fd = RawConnect(c.master_address());
    if (fd < 0) break;
    fds.push_back(fd);
  }
  EXPECT_EQ(fds.size(), 2000u);
  ExpectServing(c);
  CommandResult w = RunMr({"workers", "--master", c.master_address()}, Millis(20000));
  EXPECT_EQ(w.exit_code, 0) << w.err;
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(c.MasterAlive());
  EXPECT_NE(ReadFile(dir / "master.log").find("waiting for their hello; closing the oldest"), std::string::npos);
  ExpectServing(c);
}

TEST(SecurityTest, OutOfOrderAndUnknownMessagesCloseOnlyThatConnection) {
  TempDir dir;
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  // A request before the hello.
  RawTls a(RawConnect(c.master_address()), "");
  ASSERT_TRUE(a.ok()) << a.error();
  proto::Envelope req;
  req.mutable_list_jobs();
  a.Send(EncodeFrame(req));
  auto r = a.ReadFrame();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->hello_reply().ok());
  EXPECT_TRUE(a.ClosedByPeer());
  // A shuffle message on the master, after a good hello.
  auto b = RawHandshake(RawConnect(c.master_address()), proto::ROLE_CLIENT);
  proto::Envelope fetch;
  fetch.mutable_fetch_request()->set_job_id(1);
  b->Send(EncodeFrame(fetch));
  EXPECT_TRUE(b->ClosedByPeer());
  // An unknown message type (envelope field 99): a well-formed frame of nothing we know.
  auto d = RawHandshake(RawConnect(c.master_address()), proto::ROLE_CLIENT);
  std::string body = std::string("\x9a\x06\x00", 3);  // field 99, length-delimited, empty
  std::string frame;
  PutFixed32BE(&frame, static_cast<uint32_t>(body.size()));
  d->Send(frame + body);
  EXPECT_TRUE(d->ClosedByPeer());
  // A second hello after the handshake.
  auto e = RawHandshake(RawConnect(c.master_address()), proto::ROLE_CLIENT);
  e->Send(EncodeFrame(MakeHello(proto::ROLE_CLIENT)));
  EXPECT_TRUE(e->ClosedByPeer());
  ExpectServing(c);
  std::string log = ReadFile(dir / "master.log");
  EXPECT_NE(log.find("expected hello first"), std::string::npos) << log;
  EXPECT_NE(log.find("unexpected fetch_request from a client"), std::string::npos) << log;
  EXPECT_NE(log.find("unexpected hello from a client"), std::string::npos) << log;
}

// An output directory that cannot be created (its parent is a file) fails the job with the reason;
// the master and workers keep serving.
TEST(SecurityTest, OutputThatCannotBeCreatedFailsTheJobCleanly) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  WriteFile(dir / "a-file", "not a directory\n");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  ASSERT_TRUE(c.StartWorker().ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input",
                           dir / "in.txt", "--output", dir / "a-file/out", "--wait"},
                          Millis(60000));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("cannot create"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(c.MasterAlive());
  EXPECT_EQ(c.ReapWorkers(false), 0);
  ExpectServing(c);
}

// A worker whose files cannot grow past 128 KiB (RLIMIT_FSIZE: writes fail with EFBIG, as on a full
// disk) fails its map spills and reduce outputs; the attempts are retried on the other worker, the
// job succeeds with the right output, and no partial file is ever committed.
TEST(SecurityTest, FullDiskFailsTheAttemptWhichIsRetriedElsewhere) {
  TempDir dir;
  std::vector<std::string> files;
  for (int f = 0; f < 3; f++) {
    std::string text;
    for (int i = 0; i < 40000; i++) {
      std::string w;
      for (int n = i + f * 40000 + 1; n > 0; n /= 26) w.push_back(static_cast<char>('a' + n % 26));
      text += w + (i % 10 == 9 ? "\n" : " ");
    }
    files.push_back(dir / fmt::format("in-{}.txt", f));
    WriteFile(files.back(), text);
  }
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster().ok());
  ASSERT_TRUE(c.StartWorker({"--slots", "2"}, {}, {"/usr/bin/prlimit", "--fsize=131072", "--"}).ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  ASSERT_TRUE(c.StartWorker({"--slots", "1"}).ok());
  ASSERT_TRUE(c.WaitForWorkers(2).ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input", dir / "in-*.txt",
                           "--output", dir / "out", "--reducers", "2", "--split-size", "200k", "--wait"},
                          Millis(120000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(SortLines(ReadJobOutput(dir / "out", 2)), SortLines(ReferenceWordCount(files)));
  JobState job = c.Job(1);
  EXPECT_NE(job.json.find("File too large"), std::string::npos) << job.json;  // the limited worker failed
  EXPECT_EQ(c.ReapWorkers(false), 0);  // and was not killed by SIGXFSZ
}

}  // namespace
}  // namespace mr::testing
