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

#include "common/acceptor.h"
#include "common/address.h"
#include "common/auth.h"
#include "common/handshake.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "common/sync_client.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

ChannelLimits SmallFrames(uint32_t max_frame) {
  ChannelLimits limits = ChannelLimits::Server();
  limits.max_frame = limits.unauthenticated_max_frame = max_frame;
  return limits;
}

// An echo server: answers a hello, then sends every message back.
class EchoServer {
 public:
  explicit EchoServer(uint32_t max_frame = 1024, std::string token = "")
      : EchoServer(SmallFrames(max_frame), std::move(token)) {}
  explicit EchoServer(ChannelLimits limits, std::string token = "") : token_(std::move(token)) {
    auto l = Listener::Bind(io_, {"127.0.0.1", 0}, limits);
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
              if (hs->done()) raw->MarkAuthenticated();
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

TEST(FrameTest, OnlyValidUtf8GoesIntoStringFields) {
  proto::Envelope e;
  auto* spec = e.mutable_submit_job()->mutable_spec();
  spec->add_inputs("/in/caf\xe9");   // bytes: anything goes
  (*spec->mutable_args())["pattern"] = "\xff\xfe";
  EXPECT_TRUE(CheckSendable(e).ok());
  (*spec->mutable_args())["ke\xffy"] = "1";
  Status st = CheckSendable(e);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("JobSpec.args key \"ke\\xffy\" is not valid UTF-8"), std::string::npos) << st.message();
  EXPECT_EQ(MakeSendable(&e), 1);
  EXPECT_TRUE(CheckSendable(e).ok());
  EXPECT_EQ(e.submit_job().spec().args().count("ke\xEF\xBF\xBDy"), 1u);
  EXPECT_EQ(e.submit_job().spec().args().at("pattern"), "\xff\xfe");  // values untouched
  EXPECT_EQ(e.submit_job().spec().inputs(0), "/in/caf\xe9");
  EXPECT_EQ(ValidUtf8("a\xc3\xa9\xe9z"), "a\xc3\xa9\xEF\xBF\xBDz");
  // What a parser makes of it: a string field holding invalid UTF-8 fails to parse, so the check
  // above is what keeps a peer from dropping the connection.
  proto::Envelope bad;
  (*bad.mutable_task_report()->mutable_counters())["n\xff"] = 1;
  std::string frame = EncodeFrame(bad);
  EXPECT_FALSE(DecodeFrameBody(frame.substr(kFrameHeaderSize)).ok());
}

// Bytes fields carry any bytes end to end; an unparsable frame is answered with an ErrorReply
// naming it before the connection closes; a message the server sends with an invalid key arrives
// with it replaced.
TEST(ChannelTest, NonUtf8BytesTravelAndUnparsableFramesAreAnswered) {
  EchoServer server;
  int fd = RawConnect(server.port(), Millis(5000));
  RawHandshake(fd, proto::ROLE_CLIENT);
  proto::Envelope m;
  m.mutable_task_report()->set_error("mapper failed: \xff\xfe\x80");
  SendAll(fd, EncodeFrame(m));
  auto echo = ReadFrame(fd);
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(echo->task_report().error(), "mapper failed: \xff\xfe\x80");
  proto::Envelope bad;
  (*bad.mutable_task_report()->mutable_counters())["n\xff"] = 1;
  SendAll(fd, EncodeFrame(bad));
  auto answer = ReadFrame(fd);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_TRUE(answer->has_error());
  EXPECT_EQ(answer->error().message(), "unparsable frame");
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);

  asio::io_context io;
  auto acceptor = Listen(io, {"127.0.0.1", 0});
  ASSERT_TRUE(acceptor.ok());
  int raw = RawConnect(acceptor->local_endpoint().port(), Millis(5000));
  auto ch = std::make_shared<Channel>(acceptor->accept());
  ch->Start([](proto::Envelope&) {}, [](const std::string&) {});
  ch->Send(bad);
  io.run_for(Millis(200));
  auto got = ReadFrame(raw);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->task_report().counters().count("n\xEF\xBF\xBD"), 1u);
  ch->Close("done");
  io.run_for(Millis(50));
  ::close(raw);
}

// Before the hello exchange a frame may be small; after it, a frame's buffer grows only as its
// bytes arrive, and a frame that stops arriving is closed after frame_timeout.
TEST(ChannelTest, BigFramesWaitForAuthenticationAndStalledFramesTimeOut) {
  ChannelLimits limits = ChannelLimits::Server();
  limits.frame_timeout = Millis(300);
  EchoServer server(limits);
  int early = RawConnect(server.port());
  std::string header;
  PutFixed32BE(&header, 64u << 20);
  SendAll(early, header);
  EXPECT_TRUE(ClosedByPeer(early));
  ::close(early);
  auto reasons = server.WaitForCloses(1);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("before authentication"), std::string::npos) << reasons[0];

  int fd = RawConnect(server.port(), Millis(5000));
  RawHandshake(fd, proto::ROLE_CLIENT);
  SendAll(fd, header + std::string(1000, 'x'));  // 64 MiB announced, 1000 bytes sent, then silence
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByPeer(fd, std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(250));
  ::close(fd);
  reasons = server.WaitForCloses(2);
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons[1], "frame stalled for 300 ms");

  // A half-sent header stalls the same way.
  int half = RawConnect(server.port(), Millis(5000));
  RawHandshake(half, proto::ROLE_CLIENT);
  SendAll(half, header.substr(0, 2));
  EXPECT_TRUE(ClosedByPeer(half));
  ::close(half);
  EXPECT_EQ(server.WaitForCloses(3).back(), "frame stalled for 300 ms");
  ExpectServing(server.port());
}

TEST(ChannelTest, IdleAuthenticatedConnectionsAreReaped) {
  ChannelLimits limits = SmallFrames(1024);
  limits.idle_timeout = Millis(400);
  EchoServer server(limits);
  int idle = RawConnect(server.port(), Millis(5000));
  RawHandshake(idle, proto::ROLE_CLIENT);
  EXPECT_TRUE(ClosedByPeer(idle, std::chrono::seconds(10)));
  ::close(idle);
  EXPECT_EQ(server.WaitForCloses(1).at(0), "idle for 400 ms");
  // A connection that keeps talking is never idle, however long it lives.
  int busy = RawConnect(server.port(), Millis(5000));
  RawHandshake(busy, proto::ROLE_CLIENT);
  proto::Envelope ping;
  ping.mutable_get_job()->set_job_id(7);
  for (int i = 0; i < 10; i++) {
    SendAll(busy, EncodeFrame(ping));
    auto echo = ReadFrame(busy);
    ASSERT_TRUE(echo.ok()) << "round " << i << ": " << echo.status().ToString();
    std::this_thread::sleep_for(Millis(100));
  }
  ::close(busy);
}

}  // namespace
}  // namespace mr
