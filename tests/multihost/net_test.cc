// The harness itself: hosts reach each other on both networks in both families, a cut drops one
// host's traffic on one network only and a heal restores it, partitions heal when they go out of
// scope, processes run inside their host's namespace, and nothing outlives the Net.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <gtest/gtest.h>
#include <thread>

#include "common/units.h"
#include "tests/multihost/net.h"

namespace mr::multihost {
namespace {

using Millis = std::chrono::milliseconds;

// Accepts (and closes) connections on [::]:port (dual stack) inside a namespace until destroyed.
class Listener {
 public:
  Listener(const std::string& ns, int port) {
    std::atomic<bool> ready{false};
    thread_ = std::thread([this, ns, port, &ready] {
      int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      bool entered = nsfd >= 0 && ::setns(nsfd, CLONE_NEWNET) == 0;
      if (nsfd >= 0) ::close(nsfd);
      int fd = entered ? ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
      int off = 0, on = 1;
      if (fd >= 0) {
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        struct sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_any;
        ok_ = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 64) == 0;
      }
      ready = true;
      while (ok_ && !stop_) {
        struct pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) {
          int c = ::accept(fd, nullptr, nullptr);
          if (c >= 0) ::close(c);
        }
      }
      if (fd >= 0) ::close(fd);
    });
    while (!ready) std::this_thread::sleep_for(Millis(1));
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
  }
  bool ok() const { return ok_; }

 private:
  std::atomic<bool> ok_{false}, stop_{false};
  std::thread thread_;
};

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = WhyUnavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(NetTest, CutDropsOneNetworkOfOneHostAndHealRestoresIt) {
  auto made = Net::Create({"a", "b", "c"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Net& net = **made;
  Listener listener(net.Namespace("b"), 9000);
  ASSERT_TRUE(listener.ok());
  auto reach = [&](const std::string& from, Network n, Family f) {
    std::string ep = HostPort{net.Address("b", n, f), 9000}.ToString();
    return net.CanConnect(from, ep, Millis(700));
  };
  // After a heal, neighbour entries that failed during the cut are resolved again: give it time.
  auto reach_soon = [&](const std::string& from, Network n, Family f) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (reach(from, n, f)) return true;
    }
    return false;
  };
  for (Network n : {Network::kControl, Network::kData}) {
    for (Family f : {Family::kIpv4, Family::kIpv6}) {
      EXPECT_TRUE(reach_soon("a", n, f)) << NetworkName(n) << (f == Family::kIpv4 ? " v4" : " v6");
    }
  }
  ASSERT_TRUE(net.Cut("b", Network::kControl).ok());
  EXPECT_FALSE(reach("a", Network::kControl, Family::kIpv4));
  EXPECT_FALSE(reach("c", Network::kControl, Family::kIpv6));
  EXPECT_TRUE(reach_soon("a", Network::kData, Family::kIpv4)) << "a cut of one network must leave the other up";
  ASSERT_TRUE(net.Heal("b", Network::kControl).ok());
  EXPECT_TRUE(reach_soon("a", Network::kControl, Family::kIpv4));
  EXPECT_TRUE(reach_soon("c", Network::kControl, Family::kIpv6)) << "IPv6 addresses must survive a cut";
  {
    Partition p(net, "a | everyone", {{"a", Network::kControl}, {"a", Network::kData}});
    ASSERT_TRUE(p.status().ok());
    EXPECT_FALSE(reach("a", Network::kData, Family::kIpv4));
    EXPECT_TRUE(reach_soon("c", Network::kData, Family::kIpv4));
  }
  EXPECT_TRUE(reach_soon("a", Network::kControl, Family::kIpv4)) << "a partition heals when it goes out of scope";
  EXPECT_TRUE(reach_soon("a", Network::kData, Family::kIpv6));
  {
    Partition p(net, "a | b timed", {{"a", Network::kData}}, Millis(300));
    EXPECT_FALSE(reach("a", Network::kData, Family::kIpv4));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!p.healed() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(Millis(10));
    EXPECT_TRUE(p.healed());
    EXPECT_TRUE(reach_soon("a", Network::kData, Family::kIpv4));
  }
}

// A limited link has a token bucket at both of its ends (what the host sends, what it receives),
// the other network none, and the host still reaches its peers through it.
TEST_F(NetTest, LimitRatePutsATokenBucketOnBothEndsOfOneLink) {
  auto made = Net::Create({"a", "b"}, {.ipv4 = true, .ipv6 = false});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Net& net = **made;
  ASSERT_TRUE(net.LimitRate("a", Network::kData, "50mbit").ok());
  const std::string tc = TcBinary();
  testing::CommandResult inside = net.Run("a", {tc, "qdisc", "show"});
  ASSERT_EQ(inside.exit_code, 0) << inside.err;
  EXPECT_NE(inside.out.find("qdisc tbf"), std::string::npos) << inside.out;
  EXPECT_NE(inside.out.find("dev data"), std::string::npos) << inside.out;
  EXPECT_NE(inside.out.find("rate 50Mbit"), std::string::npos) << inside.out;
  EXPECT_EQ(inside.out.find("qdisc tbf"), inside.out.rfind("qdisc tbf")) << "only the data link: " << inside.out;
  testing::CommandResult port =
      testing::RunCommand({IpBinary(), "netns", "exec", net.tag() + "-sw", tc, "qdisc", "show", "dev", "a-data"});
  EXPECT_NE(port.out.find("qdisc tbf"), std::string::npos) << port.out << port.err;
  Listener listener(net.Namespace("b"), 9000);
  ASSERT_TRUE(listener.ok());
  EXPECT_TRUE(net.CanConnect("a", HostPort{net.Address("b", Network::kData, Family::kIpv4), 9000}.ToString(),
                             std::chrono::seconds(5)));
}

TEST_F(NetTest, IsolatedFromTheRootNamespace) {
  auto made = Net::Create({"a"}, {.ipv4 = true, .ipv6 = false});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Net& net = **made;
  // Only loopback and the two veths: no route anywhere else.
  testing::CommandResult links = net.Run("a", {IpBinary(), "-o", "link", "show"});
  ASSERT_EQ(links.exit_code, 0) << links.err;
  EXPECT_NE(links.out.find(": lo:"), std::string::npos);
  EXPECT_NE(links.out.find("UP"), std::string::npos) << "loopback must be up: " << links.out;
  EXPECT_NE(links.out.find(": ctl@"), std::string::npos) << links.out;
  EXPECT_NE(links.out.find(": data@"), std::string::npos) << links.out;
  EXPECT_EQ(std::count(links.out.begin(), links.out.end(), '\n'), 3) << links.out;
  testing::CommandResult routes = net.Run("a", {IpBinary(), "route", "show", "default"});
  EXPECT_EQ(routes.out, "") << "no default route out of the test's networks";
}

TEST_F(NetTest, ProcessesRunInsideAndNothingOutlivesTheNet) {
  std::string tag;
  pid_t pid = -1;
  {
    auto made = Net::Create({"a"});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Net& net = **made;
    tag = net.tag();
    testing::CommandResult addr = net.Run("a", {IpBinary(), "-o", "addr", "show", "dev", "ctl"});
    EXPECT_NE(addr.out.find("10.201.1.10/24"), std::string::npos) << addr.out;
    // A process the test forgot: the Net kills it when it goes.
    auto p = net.Spawn("a", {"/bin/sleep", "600"}, "");
    ASSERT_TRUE(p.ok());
    pid = *p;
  }
  (void)WaitFor(pid, std::chrono::seconds(5));  // reaps it, unless the Net already did
  EXPECT_NE(::kill(pid, 0), 0) << "a process left in a namespace outlived its Net";
  testing::CommandResult list = testing::RunCommand({IpBinary(), "netns", "list"});
  EXPECT_EQ(list.out.find(tag), std::string::npos) << list.out;
}

}  // namespace
}  // namespace mr::multihost
