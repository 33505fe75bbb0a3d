// Hostile inputs on the wire, end to end on real processes (DESIGN §6): bytes that are not UTF-8 in
// file names, child-process output, arguments and output paths never make a message unserializable;
// stalled frames cost only what arrived and time out; idle connections are reaped while workers and
// waiting clients are not; a flood of silent connections at the descriptor limit, or a burst of
// handshakes beyond the pending budget, still lets every real peer in.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/frame.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

// A connection that does not wait for the server to accept it (the backlog may be full).
int ConnectNonBlocking(const std::string& address) {
  uint16_t port = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  return fd;
}

void MakeBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void ExpectServing(const Cluster& c) {
  CommandResult r = RunMr({"jobs", "--master", c.master_address()}, Millis(30000));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}


class HostileWireTest : public ::testing::Test {
 protected:
  CommandResult Submit(std::vector<std::string> extra, Millis timeout = Millis(120000)) {
    std::vector<std::string> args = {"submit", "--master", cluster_.master_address()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMr(args, timeout);
  }
  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

TEST_F(HostileWireTest, InputFileWithANonUtf8NameIsCountedExactly) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  ASSERT_TRUE(cluster_.StartWorker().ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  fs::create_directories(tmp_ / "in");
  const std::string latin1 = tmp_ / "in/caf\xe9 \xff.txt";  // Latin-1 and a byte no encoding uses
  WriteFile(latin1, "alpha beta alpha\n");
  WriteFile(tmp_ / "in/plain.txt", "beta gamma\n");
  CommandResult r = Submit({"--job", "wordcount", "--input", tmp_ / "in", "--output", tmp_ / "out",
                            "--reducers", "1", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "out", 1), "alpha\t2\nbeta\t2\ngamma\t1\n");
  // The file itself as the input: its name is in the job's spec, which --json prints as valid JSON.
  r = Submit({"--job", "wordcount", "--input", latin1, "--output", tmp_ / "out2", "--reducers", "1", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "out2", 1), "alpha\t2\nbeta\t1\n");
  JobState js = cluster_.Job(2);
  EXPECT_EQ(js.state, "succeeded") << js.json;
  EXPECT_NE(js.json.find("caf\xEF\xBF\xBD \xEF\xBF\xBD.txt"), std::string::npos) << js.json;
  EXPECT_EQ(CountOf(ReadFile(tmp_ / "master.log"), "unparsable"), 0u);
}

// A streaming mapper that fails writing bytes that are not UTF-8 to stderr: its task fails (charged,
// retried, then the job fails with the error), its worker stays, and the job behind it runs.
TEST_F(HostileWireTest, NonUtf8StderrOfAFailingMapperFailsOnlyItsJob) {
  ASSERT_TRUE(cluster_.StartMaster({"--allow-user-code"}).ok());
  ASSERT_TRUE(cluster_.StartWorker().ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  WriteFile(tmp_ / "in.txt", "one two two\n");
  CommandResult bad = Submit({"--mapper", "printf 'boom \\377\\376\\n' >&2; exit 3", "--input", tmp_ / "in.txt",
                              "--output", tmp_ / "bad", "--reducers", "1"});
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  CommandResult good = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "good",
                               "--reducers", "1"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  JobState first = cluster_.WaitForJob(1, Millis(90000));
  EXPECT_EQ(first.state, "failed") << first.json;
  EXPECT_NE(first.error.find("failed 4 times"), std::string::npos) << first.error;
  EXPECT_NE(first.error.find("boom"), std::string::npos) << first.error;
  JobState second = cluster_.WaitForJob(2, Millis(90000));
  EXPECT_EQ(second.state, "succeeded") << second.json;
  EXPECT_EQ(ReadJobOutput(tmp_ / "good", 1), "one\t1\ntwo\t2\n");
  const std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_EQ(CountOf(log, "unparsable"), 0u) << log;
  EXPECT_EQ(CountOf(log, " registered from "), 1u) << "the worker was dropped and came back: " << log;
  CommandResult status = RunMr({"status", "1", "--master", cluster_.master_address()}, Millis(10000));
  EXPECT_NE(status.out.find("boom \xff\xfe"), std::string::npos) << status.out;  // the bytes as written
}

TEST_F(HostileWireTest, NonUtf8ArgumentsAndOutputPaths) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  ASSERT_TRUE(cluster_.StartWorker().ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  WriteFile(tmp_ / "in.txt", "x y x\n");
  // An output path that is not UTF-8: the job runs and writes there.
  const std::string out = tmp_ / "out-\xe9\xff";
  CommandResult r = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", out, "--reducers", "1",
                            "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(out, 1), "x\t2\ny\t1\n");
  // An argument value that is not UTF-8 reaches the job, which refuses it by name.
  r = Submit({"--job", "invertedindex", "--input", tmp_ / "in.txt", "--output", tmp_ / "o2", "--arg",
              "lowercase=\xff"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lowercase"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot be reached"), std::string::npos) << r.err;
  // An argument name is a protobuf map key, which must be UTF-8: refused by the client, naming it.
  r = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "o3", "--arg", "k\xff=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("k\\xff"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "o3"));
  ExpectServing(cluster_);
}

// Ten authenticated connections each announce a 64 MiB frame, send 64 KiB of it and stall: the
// master holds what arrived (not 640 MiB) and closes them when the frame timeout passes.
TEST_F(HostileWireTest, StalledBigFramesCostWhatArrivedAndTimeOut) {
  ASSERT_TRUE(cluster_.StartMaster({}, {"MR_FRAME_TIMEOUT_MS=3000"}).ok());
  ExpectServing(cluster_);
  const uint64_t before = ResidentBytes(cluster_.master_pid());
  ASSERT_GT(before, 0u);
  std::vector<std::unique_ptr<RawTls>> conns;
  std::string header;
  PutFixed32BE(&header, kDefaultMaxFrame);
  for (int i = 0; i < 10; i++) {
    int fd = RawConnect(cluster_.master_address(), Millis(5000));
    ASSERT_GE(fd, 0);
    auto c = RawHandshake(fd, proto::ROLE_CLIENT);
    ASSERT_TRUE(c->Send(header + std::string(64 << 10, 'x')));
    conns.push_back(std::move(c));
  }
  // While they stall (well within the frame timeout), the master's memory stays near where it was.
  uint64_t peak = 0;
  for (int i = 0; i < 10; i++) {
    peak = std::max(peak, ResidentBytes(cluster_.master_pid()));
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_LT(peak, before + (32u << 20)) << "before " << before << " peak " << peak;
  RecordProperty("master_rss_before_bytes", std::to_string(before));
  RecordProperty("master_rss_peak_bytes", std::to_string(peak));
  for (auto& c : conns) EXPECT_TRUE(c->ClosedByPeer(std::chrono::seconds(15)));
  EXPECT_TRUE(WaitForText(tmp_ / "master.log", "frame stalled for 3000 ms", 10));
  // Before the hello, even announcing one is refused at once.
  RawTls early(RawConnect(cluster_.master_address(), Millis(5000)), "");
  ASSERT_TRUE(early.ok()) << early.error();
  early.Send(header);
  EXPECT_TRUE(early.ClosedByPeer(std::chrono::seconds(5)));
  ExpectServing(cluster_);
}

// A silent authenticated client is reaped after the idle timeout; a worker (it heartbeats) and a
// client waiting for its job (it polls) never are.
TEST_F(HostileWireTest, IdleConnectionsAreReapedButWorkersAndWaitingClientsStay) {
  ASSERT_TRUE(cluster_.StartMaster({}, {"MR_IDLE_TIMEOUT_MS=1500"}).ok());
  ASSERT_TRUE(cluster_.StartWorker({"--heartbeat", "200ms"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  auto idle = RawHandshake(RawConnect(cluster_.master_address(), Millis(5000)), proto::ROLE_CLIENT);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle->ClosedByPeer(std::chrono::seconds(15)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(1400));
  WriteFile(tmp_ / "in.txt", "p q p\n");
  CommandResult r = Submit({"--job", "wordcount", "--input", tmp_ / "in.txt", "--output", tmp_ / "out",
                            "--reducers", "1", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "out", 1), "p\t2\nq\t1\n");
  EXPECT_TRUE(WaitForText(tmp_ / "master.log", "idle for 1500 ms", 1));
  const std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_EQ(CountOf(log, "idle for 1500 ms"), 1u) << log;  // the silent client only
}

// The master at a low descriptor limit, flooded with silent connections beyond it: it keeps
// accepting (closing the oldest silent ones to make room) and a real client gets in.
TEST_F(HostileWireTest, FloodAtTheDescriptorLimitDoesNotLockClientsOut) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  ExpectServing(cluster_);
  const std::string pid = std::to_string(cluster_.master_pid());
  CommandResult lim = RunCommand({"/usr/bin/prlimit", "--pid", pid, "--nofile=128:128"}, Millis(10000));
  ASSERT_EQ(lim.exit_code, 0) << lim.err;
  std::vector<int> flood;
  for (int i = 0; i < 400; i++) flood.push_back(ConnectNonBlocking(cluster_.master_address()));
  for (int i = 0; i < 3; i++) ExpectServing(cluster_);
  EXPECT_TRUE(cluster_.MasterAlive());
  for (int fd : flood) ::close(fd);
  ExpectServing(cluster_);
  EXPECT_NE(ReadFile(tmp_ / "master.log").find("out of file descriptors"), std::string::npos);
}

// 300 peers open their connections at once, beyond a pending budget of 16: the master accepts them
// as room frees up instead of closing the older ones, so every handshake completes. (The oldest
// waiting connection is closed once it has waited 1 s with more waiting behind it; here it waits
// for the 15 handshakes before it, well under that even in a sanitizer build on a busy machine.
// With a budget of 64 it waited for 63, which took over 1 s there.)
TEST_F(HostileWireTest, HandshakeBurstBeyondThePendingBudgetIsServedInOrder) {
  ASSERT_TRUE(cluster_.StartMaster({}, {"MR_MAX_PENDING_CONNECTIONS=16"}).ok());
  std::vector<int> fds;
  for (int i = 0; i < 300; i++) fds.push_back(ConnectNonBlocking(cluster_.master_address()));
  int ok = 0;
  std::vector<std::unique_ptr<RawTls>> done;
  size_t next = 0;
  for (; next < fds.size(); next++) {
    int fd = fds[next];
    pollfd p{fd, POLLOUT, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    MakeBlocking(fd);
    done.push_back(RawHandshake(fd, proto::ROLE_CLIENT));
    if (HasFailure()) break;  // one evicted handshake is enough to know (each costs a 5 s read)
    ok++;
  }
  EXPECT_EQ(ok, 300);
  for (size_t i = next + 1; i < fds.size(); i++) ::close(fds[i]);
  EXPECT_EQ(CountOf(ReadFile(tmp_ / "master.log"), "without a hello"), 0u);
  ExpectServing(cluster_);
}

// A worker whose descriptor limit is too low for its job keeps running: what cannot get a descriptor
// fails its attempt (charged, so the job ends with the error in bounded time), nothing crashes it.
TEST_F(HostileWireTest, WorkerAtALowDescriptorLimitFailsTasksNotItself) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  ASSERT_TRUE(cluster_.StartWorker({}, {}, {"/usr/bin/prlimit", "--nofile=96:96", "--"}).ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  fs::create_directories(tmp_ / "in");
  for (int i = 0; i < 24; i++) WriteFile(tmp_ / ("in/f" + std::to_string(i)), "w" + std::string(1, 'a' + i % 4) + "\n");
  CommandResult r = Submit({"--job", "wordcount", "--input", tmp_ / "in", "--output", tmp_ / "out", "--reducers",
                            "2", "--wait"}, Millis(120000));
  if (r.exit_code == 0) {
    EXPECT_EQ(SortLines(ReadJobOutput(tmp_ / "out", 2)), "wa\t6\nwb\t6\nwc\t6\nwd\t6\n");
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("Too many open files"), std::string::npos) << r.out << r.err;
  }
  EXPECT_EQ(cluster_.ReapWorkers(false), 0) << ReadFile(tmp_ / "worker-0.log");
  EXPECT_EQ(CountOf(ReadFile(tmp_ / "worker-0.log"), "terminate called"), 0u);
  // The same worker, at the same limit, still runs a job that fits.
  WriteFile(tmp_ / "small.txt", "s t s\n");
  r = Submit({"--job", "wordcount", "--input", tmp_ / "small.txt", "--output", tmp_ / "out2", "--reducers", "1",
              "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(tmp_ / "out2", 1), "s\t2\nt\t1\n");
}

}  // namespace
}  // namespace mr::testing
