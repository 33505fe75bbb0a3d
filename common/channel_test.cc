// Framing over real loopback TCP: oversized, truncated and garbage frames close only the
// offending connection; the server keeps serving everyone else.
#include "common/channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <thread>

#include "common/handshake.h"
#include "common/record.h"
#include "common/sync_client.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

// An echo server: answers a hello, then sends every message back.
class EchoServer {
 public:
  explicit EchoServer(uint32_t max_frame = 1024) {
    auto l = Listener::Bind(io_, {"127.0.0.1", 0}, max_frame);
    EXPECT_TRUE(l.ok());
    listener_ = *l;
    listener_->Start([this](std::shared_ptr<Channel> ch) {
      Channel* raw = ch.get();
      auto greeted = std::make_shared<bool>(false);
      ch->Start(
          [raw, greeted](proto::Envelope& m) {
            if (!*greeted) {
              proto::Role role;
              raw->Send(MakeHelloReply(CheckHello(m, {proto::ROLE_CLIENT}, &role)));
              *greeted = true;
              return;
            }
            raw->Send(m);
          },
          [this](const std::string& reason) {
            std::lock_guard<std::mutex> l(mu_);
            reasons_.push_back(reason);
          });
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return listener_->port(); }
  // Waits (bounded) until `n` connections have closed; returns their reasons.
  std::vector<std::string> WaitForCloses(size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (reasons_.size() >= n) return reasons_;
      }
      std::this_thread::sleep_for(Millis(5));
    }
    std::lock_guard<std::mutex> l(mu_);
    return reasons_;
  }

 private:
  asio::io_context io_;
  std::shared_ptr<Listener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> reasons_;
};

int RawConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// True when the peer closes the connection within the deadline (reads until EOF).
bool ClosedByPeer(int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return true;
  }
  return false;
}

void SendAll(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::string HelloFrame() {
  proto::Envelope hello;
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  hello.mutable_hello()->set_role(proto::ROLE_CLIENT);
  return EncodeFrame(hello);
}

// A well-behaved client still gets answers.
void ExpectServing(uint16_t port) {
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, Millis(5000));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  proto::Envelope req;
  req.mutable_get_job()->set_job_id(42);
  auto reply = (*c)->Call(req, Millis(5000));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->get_job().job_id(), 42u);
}

TEST(FrameTest, RoundTrip) {
  proto::Envelope e;
  e.mutable_submit_job()->mutable_spec()->set_job("wordcount");
  std::string frame = EncodeFrame(e);
  ASSERT_EQ(DecodeFrameLength(frame.data()), frame.size() - 4);
  auto back = DecodeFrameBody(frame.substr(4));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->submit_job().spec().job(), "wordcount");
  EXPECT_EQ(MessageName(*back), "submit_job");
  EXPECT_FALSE(DecodeFrameBody("\xff\xff\xff").ok());
  EXPECT_FALSE(DecodeFrameBody("").ok());  // no message set
}

TEST(ChannelTest, OversizedFrameClosesOnlyThatConnection) {
  EchoServer server(1024);
  int fd = RawConnect(server.port());
  std::string header;
  PutFixed32BE(&header, 1u << 30);  // 1 GiB announced: refused before any allocation
  SendAll(fd, header);
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  auto reasons = server.WaitForCloses(1);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("exceeds the limit"), std::string::npos) << reasons[0];
  ExpectServing(server.port());
}

TEST(ChannelTest, TruncatedFrameClosesOnlyThatConnection) {
  EchoServer server;
  int fd = RawConnect(server.port());
  std::string frame = HelloFrame();
  SendAll(fd, frame.substr(0, frame.size() - 2));
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  auto reasons = server.WaitForCloses(1);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("truncated"), std::string::npos) << reasons[0];
  ExpectServing(server.port());
}

TEST(ChannelTest, GarbageFrameClosesOnlyThatConnection) {
  EchoServer server;
  int fd = RawConnect(server.port());
  std::string frame;
  PutFixed32BE(&frame, 8);
  frame += "\xff\xff\xff\xff\xff\xff\xff\xff";
  SendAll(fd, frame);
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  auto reasons = server.WaitForCloses(1);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("unparsable"), std::string::npos) << reasons[0];
  ExpectServing(server.port());
}

TEST(ChannelTest, RandomBytesNeverStopTheServer) {
  EchoServer server;
  std::mt19937 rng(1);
  for (int i = 0; i < 20; i++) {
    int fd = RawConnect(server.port());
    std::string junk(1 + rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    SendAll(fd, junk);
    ::close(fd);
  }
  server.WaitForCloses(20);
  ExpectServing(server.port());
}

TEST(ChannelTest, WrongProtocolVersionIsRefused) {
  EchoServer server;
  auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, Millis(5000));
  ASSERT_TRUE(c.ok());
  int fd = RawConnect(server.port());
  proto::Envelope hello;
  hello.mutable_hello()->set_protocol_version(999);
  SendAll(fd, EncodeFrame(hello));
  char buf[256];
  pollfd p{fd, POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 5000), 0);
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ASSERT_GT(n, 4);
  auto reply = DecodeFrameBody(std::string(buf + 4, n - 4));
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->hello_reply().ok());
  EXPECT_NE(reply->hello_reply().error().find("version 999"), std::string::npos);
  ::close(fd);
}

TEST(ChannelTest, ConnectToClosedPortFailsClearly) {
  uint16_t port;
  {
    EchoServer server;
    port = server.port();
  }
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, Millis(2000));
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace mr
