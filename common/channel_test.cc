// Framing over real loopback TCP: oversized, truncated and garbage frames close only the
// offending connection; the server keeps serving everyone else.
#include "common/channel.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <thread>

#include "common/address.h"
#include "common/auth.h"
#include "common/handshake.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "common/sync_client.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

// An echo server: answers a hello, then sends every message back.
class EchoServer {
 public:
  explicit EchoServer(uint32_t max_frame = 1024, std::string token = "") : token_(std::move(token)) {
    auto l = Listener::Bind(io_, {"127.0.0.1", 0}, max_frame);
    EXPECT_TRUE(l.ok());
    listener_ = *l;
    listener_->Start([this](std::shared_ptr<Channel> ch) {
      Channel* raw = ch.get();
      auto hs = std::make_shared<ServerHandshake>(token_, std::vector<proto::Role>{proto::ROLE_CLIENT});
      ch->Start(
          [raw, hs](proto::Envelope& m) {
            if (!hs->done()) {
              proto::Envelope reply;
              Status st = hs->OnMessage(m, &reply);
              raw->Send(reply);
              if (!st.ok()) raw->CloseAfterFlush(st.message());
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
  std::string token_;
  asio::io_context io_;
  std::shared_ptr<Listener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> reasons_;
};

std::string HelloFrame() {
  proto::Envelope hello;
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  hello.mutable_hello()->set_role(proto::ROLE_CLIENT);
  hello.mutable_hello()->set_client_nonce(std::string(32, 'n'));
  return EncodeFrame(hello);
}

// A well-behaved client still gets answers.
void ExpectServing(uint16_t port) {
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, "", Millis(5000));
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
  auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, "", Millis(5000));
  ASSERT_TRUE(c.ok());
  int fd = RawConnect(server.port());
  proto::Envelope hello;
  hello.mutable_hello()->set_protocol_version(999);
  hello.mutable_hello()->set_client_nonce(std::string(32, 'n'));
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

TEST(AuthTest, RightTokenIsServedWrongOrMissingTokenIsRefused) {
  EchoServer server(1024, "s3cret");
  {
    auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, "s3cret", Millis(5000));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  for (std::string token : {"wrong", ""}) {
    auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, token, Millis(5000));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), Status::Code::kAborted) << c.status().ToString();
    EXPECT_NE(c.status().message().find("refused the connection: authentication failed"), std::string::npos)
        << c.status().ToString();
  }
}

TEST(AuthTest, ClientWithTokenDoesNotTalkToServerWithout) {
  EchoServer server(1024, "");
  auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, "s3cret", Millis(5000));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("without a cluster token"), std::string::npos) << c.status().ToString();
}

// A recorded exchange (its hello and its proof) replayed on a new connection is refused: the server
// picks a fresh nonce, so the old proof does not match.
TEST(AuthTest, ReplayedHandshakeIsRefused) {
  const std::string token = "s3cret";
  EchoServer server(1024, token);
  ClientHandshake hs(token, proto::ROLE_CLIENT);
  proto::Envelope hello = hs.Hello();
  int fd = RawConnect(server.port());
  SendAll(fd, EncodeFrame(hello));
  auto challenge = ReadFrame(fd);
  ASSERT_TRUE(challenge.ok() && challenge->has_auth_challenge());
  auto response = hs.OnChallenge(*challenge);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  SendAll(fd, EncodeFrame(*response));
  auto reply = ReadFrame(fd);
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->hello_reply().ok());
  ::close(fd);

  // The attacker replays the recorded hello and proof.
  int fd2 = RawConnect(server.port());
  SendAll(fd2, EncodeFrame(hello));
  auto challenge2 = ReadFrame(fd2);
  ASSERT_TRUE(challenge2.ok() && challenge2->has_auth_challenge());
  EXPECT_NE(challenge2->auth_challenge().server_nonce(), challenge->auth_challenge().server_nonce());
  SendAll(fd2, EncodeFrame(*response));
  auto reply2 = ReadFrame(fd2);
  ASSERT_TRUE(reply2.ok());
  EXPECT_FALSE(reply2->hello_reply().ok());
  EXPECT_EQ(reply2->hello_reply().error(), "authentication failed");
  EXPECT_TRUE(ClosedByPeer(fd2));
  ::close(fd2);
  // Nothing else gets through either: a request instead of the proof closes the connection.
  int fd3 = RawConnect(server.port());
  SendAll(fd3, EncodeFrame(hello));
  ASSERT_TRUE(ReadFrame(fd3).ok());
  proto::Envelope req;
  req.mutable_get_job()->set_job_id(1);
  SendAll(fd3, EncodeFrame(req));
  auto reply3 = ReadFrame(fd3);
  ASSERT_TRUE(reply3.ok());
  EXPECT_FALSE(reply3->hello_reply().ok());
  EXPECT_TRUE(ClosedByPeer(fd3));
  ::close(fd3);
}

TEST(AuthTest, TokenFileRules) {
  char dir[] = "/tmp/mr-auth-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/token";
  auto write = [&](const std::string& content, mode_t mode) {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(content.c_str(), f);
    std::fclose(f);
    ::chmod(path.c_str(), mode);
  };
  write("abc\n", 0600);
  auto t = LoadToken(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "abc");
  write("abc\n", 0644);
  t = LoadToken(path);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("readable by every user"), std::string::npos);
  write("\n", 0600);
  EXPECT_FALSE(LoadToken(path).ok());
  EXPECT_FALSE(LoadToken(std::string(dir) + "/missing").ok());
  std::remove(path.c_str());
  ::rmdir(dir);
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

TEST(ChannelTest, ConnectToClosedPortFailsClearly) {
  uint16_t port;
  {
    EchoServer server;
    port = server.port();
  }
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, "", Millis(2000));
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace mr
