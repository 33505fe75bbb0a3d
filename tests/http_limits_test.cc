// The master's HTTP port under abuse, and the RPC port spoken to in HTTP, end to end on real
// processes (README "Limits"): a flood of half-sent requests beyond the HTTP connection budget
// neither locks out /healthz nor the RPC clients and workers, the stalled connections are closed
// after the request timeout, and the master's memory stays bounded; a browser or curl pointed at
// the RPC port gets an HTTP 400 that names the HTTP port.
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/raw_socket_testing.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

using Millis = std::chrono::milliseconds;

uint16_t PortOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

std::string Get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  Cluster cluster_{tmp_.path()};
};

TEST_F(HttpLimitsTest, FloodOfHalfRequestsLocksOutNeitherHttpNorRpc) {
  ASSERT_TRUE(cluster_
                  .StartMaster({}, {"MR_MAX_HTTP_CONNECTIONS=16", "MR_HTTP_HEADER_TIMEOUT_MS=4000",
                                    "MR_HTTP_IDLE_TIMEOUT_MS=4000"})
                  .ok());
  ASSERT_TRUE(cluster_.StartWorker().ok());
  ASSERT_TRUE(cluster_.WaitForWorkers(1).ok());
  const uint16_t http = PortOf(cluster_.http_address());
  const uint64_t rss_before = ResidentBytes(cluster_.master_pid());

  // Four times the budget, each holding half a request; most wait in the listen backlog.
  std::vector<int> flood;
  for (int i = 0; i < 64; i++) {
    int fd = RawConnect(http, Millis(20000));
    ASSERT_GE(fd, 0);
    SendBytes(fd, "GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    flood.push_back(fd);
  }
  // A real request still gets its answer (after the older stalled ones made room).
  int probe = RawConnect(http, Millis(20000));
  SendBytes(probe, Get("/healthz"));
  bool closed = false;
  std::string health = ReadToEnd(probe, &closed);
  ::close(probe);
  EXPECT_TRUE(health.starts_with("HTTP/1.1 200")) << health;
  // So do RPC clients.
  CommandResult workers = RunMr({"workers", "--master", cluster_.master_address()}, Millis(30000));
  EXPECT_EQ(workers.exit_code, 0) << workers.err;
  EXPECT_NE(workers.out.find("127.0.0.1"), std::string::npos) << workers.out;
  CommandResult jobs = RunMr({"jobs", "--master", cluster_.master_address()}, Millis(30000));
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;

  // Every stalled connection is closed: evicted for room, or at the request timeout.
  for (int fd : flood) {
    EXPECT_TRUE(ClosedByPeer(fd, Millis(20000)));
    ::close(fd);
  }
  std::string log = ReadFile(tmp_ / "master.log");
  EXPECT_NE(log.find("closing the oldest one waiting for a request"), std::string::npos);
  // And the master holds no more than a little for them.
  const uint64_t rss_after = ResidentBytes(cluster_.master_pid());
  EXPECT_LT(rss_after, rss_before + (64u << 20)) << rss_before << " -> " << rss_after;
  probe = RawConnect(http, Millis(10000));
  SendBytes(probe, Get("/healthz"));
  EXPECT_TRUE(ReadToEnd(probe).starts_with("HTTP/1.1 200"));
  ::close(probe);
}

TEST_F(HttpLimitsTest, KeptAliveConnectionIsClosedWhenIdle) {
  ASSERT_TRUE(cluster_.StartMaster({}, {"MR_HTTP_IDLE_TIMEOUT_MS=500"}).ok());
  int fd = RawConnect(PortOf(cluster_.http_address()), Millis(20000));
  SendBytes(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::string r = ReadToEnd(fd, &closed);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
  EXPECT_TRUE(closed) << "the kept-alive connection stayed open";
  // Closed by the idle timeout, well before the 10 s request timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  ::close(fd);
}

TEST_F(HttpLimitsTest, HttpRequestToTheRpcPortIsAnswered400WithTheHttpAddress) {
  ASSERT_TRUE(cluster_.StartMaster().ok());
  int fd = RawConnect(PortOf(cluster_.master_address()), Millis(10000));
  SendBytes(fd, Get("/"));
  bool closed = false;
  std::string r = ReadToEnd(fd, &closed);
  ::close(fd);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 Bad Request\r\n")) << r;
  EXPECT_NE(r.find("RPC port"), std::string::npos) << r;
  EXPECT_NE(r.find("http://" + cluster_.http_address() + "/"), std::string::npos) << r;
  EXPECT_TRUE(closed);
  // The master still serves.
  CommandResult jobs = RunMr({"jobs", "--master", cluster_.master_address()}, Millis(30000));
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;
}

}  // namespace
}  // namespace mr::testing
