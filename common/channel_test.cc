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
#include "common/credentials.h"
#include "common/handshake.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "common/rpc_server.h"
#include "common/sync_client.h"
#include "common/temp_dir_testing.h"
#include "common/tls.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

ChannelLimits SmallFrames(uint32_t max_frame) {
  ChannelLimits limits = ChannelLimits::Server();
  limits.max_frame = limits.unauthenticated_max_frame = max_frame;
  return limits;
}

constexpr const char* kToken = "the-cluster-token-for-channel-tests";

std::shared_ptr<TlsContext> Tls(const std::string& token) {
  TlsOptions o;
  o.token = *Token::Parse(token);
  return *TlsContext::Make(std::move(o));
}

// An echo server on its own thread: TLS and the hello (RpcServer), then every message back.
class EchoServer {
 public:
  explicit EchoServer(uint32_t max_frame = 1024) : EchoServer(SmallFrames(max_frame)) {}
  explicit EchoServer(ChannelLimits limits) {
    RpcServerOptions options;
    options.limits = limits;
    auto s = RpcServer::Start(
        io_, "echo", {"127.0.0.1", 0}, Tls(kToken), {proto::ROLE_CLIENT},
        [this](const std::shared_ptr<Channel>& ch, proto::Role) {
          Channel* raw = ch.get();
          return ChannelHandlers{[raw](proto::Envelope& m) { raw->Send(m); },
                                 [this](const std::string& reason) { Closed(reason); }};
        },
        options);
    EXPECT_TRUE(s.ok());
    server_ = *s;
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return server_->address().port; }
  // Waits (bounded) until `n` authenticated connections have closed; returns their reasons.
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
  // Until no connection waits for its hello (those closed before it leave no reason).
  bool WaitForNoPending() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      bool done = false;
      asio::post(io_, [&] { done = server_->pending() == 0; });
      std::this_thread::sleep_for(Millis(20));
      if (done) return true;
    }
    return false;
  }

 private:
  void Closed(const std::string& reason) {
    std::lock_guard<std::mutex> l(mu_);
    reasons_.push_back(reason);
  }
  asio::io_context io_;
  std::shared_ptr<RpcServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> reasons_;
};

// A TLS connection to the server whose hello is not yet sent.
std::unique_ptr<RawTls> Secured(uint16_t port) {
  auto c = std::make_unique<RawTls>(RawConnect(port, Millis(5000)), kToken);
  EXPECT_TRUE(c->ok()) << c->error();
  return c;
}

// A well-behaved client still gets answers.
void ExpectServing(uint16_t port) {
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, Tls(kToken), Millis(5000));
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

// Before the hello, inside TLS: an oversized header, a truncated frame, garbage. Each closes its
// connection only (the client sees the close), and the server keeps serving.
TEST(ChannelTest, BadFramesBeforeTheHelloCloseOnlyThatConnection) {
  EchoServer server(1024);
  std::string huge;
  PutFixed32BE(&huge, 1u << 30);  // 1 GiB announced: refused before any allocation
  std::string hello = EncodeFrame(MakeHello(proto::ROLE_CLIENT));
  std::string garbage;
  PutFixed32BE(&garbage, 8);
  garbage += "\xff\xff\xff\xff\xff\xff\xff\xff";
  for (const std::string& bytes : {huge, hello.substr(0, hello.size() - 2), garbage}) {
    auto c = Secured(server.port());
    c->Send(bytes);
    if (bytes.size() < hello.size()) ::shutdown(c->fd(), SHUT_WR);
    EXPECT_TRUE(c->ClosedByPeer());
  }
  EXPECT_TRUE(server.WaitForNoPending());
  ExpectServing(server.port());
}

// After the hello: garbage is answered, then the connection closes with the reason.
TEST(ChannelTest, GarbageAfterTheHelloIsAnsweredAndClosesOnlyThatConnection) {
  EchoServer server;
  auto c = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  std::string frame;
  PutFixed32BE(&frame, 8);
  frame += "\xff\xff\xff\xff\xff\xff\xff\xff";
  c->Send(frame);
  auto answer = c->ReadFrame();
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->error().message(), "unparsable frame");
  EXPECT_TRUE(c->ClosedByPeer());
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
    if (i % 2 == 0) junk[0] = '\x16';  // looks like a TLS handshake record
    SendAll(fd, junk);
    ::close(fd);
  }
  EXPECT_TRUE(server.WaitForNoPending());
  ExpectServing(server.port());
}

TEST(ChannelTest, WrongProtocolVersionIsRefused) {
  EchoServer server;
  auto c = Secured(server.port());
  proto::Envelope hello = MakeHello(proto::ROLE_CLIENT);
  hello.mutable_hello()->set_protocol_version(999);
  c->Send(EncodeFrame(hello));
  auto reply = c->ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_FALSE(reply->hello_reply().ok());
  EXPECT_NE(reply->hello_reply().error().find("version 999"), std::string::npos);
  EXPECT_TRUE(c->ClosedByPeer());
}

TEST(AuthTest, RightTokenIsServedWrongOrMissingTokenIsRefused) {
  EchoServer server;
  {
    auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, Tls(kToken), Millis(5000));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  for (std::string token : {"wrong-token-wrong-token", ""}) {
    auto c = SyncClient::Connect({"127.0.0.1", server.port()}, proto::ROLE_CLIENT, Tls(token), Millis(5000));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), Status::Code::kAborted) << c.status().ToString();
    EXPECT_NE(c.status().message().find("refused the connection: authentication failed"), std::string::npos)
        << c.status().ToString();
  }
}

TEST(AuthTest, TokenFileRules) {
  TempDir dir;
  std::string path = dir / "token";
  auto write = [&](const std::string& content, mode_t mode) {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(content.c_str(), f);
    std::fclose(f);
    ::chmod(path.c_str(), mode);
  };
  write("abc\n", 0600);
  auto t = LoadToken(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->kind, Token::Kind::kCluster);
  EXPECT_EQ(t->secret, "abc");
  write("abc\n", 0400);
  EXPECT_TRUE(LoadToken(path).ok());
  for (mode_t mode : {0644, 0640, 0604, 0620}) {
    write("abc\n", mode);
    t = LoadToken(path);
    ASSERT_FALSE(t.ok()) << std::oct << mode;
    EXPECT_NE(t.status().message().find("readable or writable by others"), std::string::npos) << t.status().message();
  }
  write("alice:0123456789abcdef0123\n", 0600);
  t = LoadToken(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->kind, Token::Kind::kUser);
  EXPECT_EQ(t->user, "alice");
  write("al ice:0123456789abcdef0123\n", 0600);
  EXPECT_FALSE(LoadToken(path).ok());
  write("\n", 0600);
  EXPECT_FALSE(LoadToken(path).ok());
  // A file of another user is refused, whatever its mode.
  write("abc\n", 0600);
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  t = LoadToken(path);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("not by this user"), std::string::npos) << t.status().message();
  EXPECT_FALSE(LoadToken(dir / "missing").ok());
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

TEST(AuthTest, ChildrenNeverSeeACredential) {
  EXPECT_TRUE(IsSecretVariable("MR_TOKEN"));
  EXPECT_TRUE(IsSecretVariable("MR_ADMIN_TOKEN"));
  EXPECT_TRUE(IsSecretVariable("AWS_SECRET_ACCESS_KEY"));
  EXPECT_FALSE(IsSecretVariable("PATH"));
  EXPECT_FALSE(IsSecretVariable("MR_FAILPOINTS"));
  ::setenv("MR_TOKEN", "shh", 1);
  for (const std::string& kv : ScrubbedEnvironment()) EXPECT_FALSE(kv.starts_with("MR_TOKEN=")) << kv;
  ::unsetenv("MR_TOKEN");
}

TEST(ChannelTest, ConnectToClosedPortFailsClearly) {
  uint16_t port;
  {
    EchoServer server;
    port = server.port();
  }
  auto c = SyncClient::Connect({"127.0.0.1", port}, proto::ROLE_CLIENT, Tls(kToken), Millis(2000));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kUnavailable) << c.status().ToString();
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
  auto c = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  proto::Envelope m;
  m.mutable_task_report()->set_error("mapper failed: \xff\xfe\x80");
  c->Send(EncodeFrame(m));
  auto echo = c->ReadFrame();
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(echo->task_report().error(), "mapper failed: \xff\xfe\x80");
  proto::Envelope bad;
  (*bad.mutable_task_report()->mutable_counters())["n\xff"] = 1;
  c->Send(EncodeFrame(bad));
  auto answer = c->ReadFrame();
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_TRUE(answer->has_error());
  EXPECT_EQ(answer->error().message(), "unparsable frame");
  EXPECT_TRUE(c->ClosedByPeer());

  // What a channel sends with an invalid key arrives with the key replaced.
  asio::io_context io;
  auto acceptor = Listen(io, {"127.0.0.1", 0});
  ASSERT_TRUE(acceptor.ok());
  std::unique_ptr<RawTls> raw;
  std::thread client([&] { raw = std::make_unique<RawTls>(RawConnect(acceptor->local_endpoint().port(), Millis(5000)), kToken); });
  auto ch = std::make_shared<Channel>(acceptor->accept(), Tls(kToken), TlsSide::kServer);
  ch->Start([](proto::Envelope&) {}, [](const std::string&) {});
  ch->Send(bad);
  io.run_for(Millis(300));
  client.join();
  ASSERT_TRUE(raw->ok()) << raw->error();
  std::thread reader([&] {
    auto got = raw->ReadFrame();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->task_report().counters().count("n\xEF\xBF\xBD"), 1u);
  });
  io.run_for(Millis(300));
  reader.join();
  ch->Close("done");
  io.run_for(Millis(50));
}

// Before the hello exchange a frame may be small; after it, a frame's buffer grows only as its
// bytes arrive, and a frame that stops arriving is closed after frame_timeout.
TEST(ChannelTest, BigFramesWaitForAuthenticationAndStalledFramesTimeOut) {
  ChannelLimits limits = ChannelLimits::Server();
  limits.frame_timeout = Millis(300);
  EchoServer server(limits);
  std::string header;
  PutFixed32BE(&header, 64u << 20);
  {
    auto early = Secured(server.port());
    early->Send(header);
    EXPECT_TRUE(early->ClosedByPeer());
  }

  auto c = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  c->Send(header + std::string(1000, 'x'));  // 64 MiB announced, 1000 bytes sent, then silence
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c->ClosedByPeer(std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(250));
  auto reasons = server.WaitForCloses(1);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "frame stalled for 300 ms");

  // A half-sent header stalls the same way.
  auto half = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  half->Send(header.substr(0, 2));
  EXPECT_TRUE(half->ClosedByPeer());
  EXPECT_EQ(server.WaitForCloses(2).back(), "frame stalled for 300 ms");
  ExpectServing(server.port());
}

TEST(ChannelTest, IdleAuthenticatedConnectionsAreReaped) {
  ChannelLimits limits = SmallFrames(1024);
  limits.idle_timeout = Millis(400);
  EchoServer server(limits);
  auto idle = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  EXPECT_TRUE(idle->ClosedByPeer(std::chrono::seconds(10)));
  EXPECT_EQ(server.WaitForCloses(1).at(0), "idle for 400 ms");
  // A connection that keeps talking is never idle, however long it lives.
  auto busy = RawHandshake(RawConnect(server.port(), Millis(5000)), proto::ROLE_CLIENT, kToken);
  proto::Envelope ping;
  ping.mutable_get_job()->set_job_id(7);
  for (int i = 0; i < 10; i++) {
    busy->Send(EncodeFrame(ping));
    auto echo = busy->ReadFrame();
    ASSERT_TRUE(echo.ok()) << "round " << i << ": " << echo.status().ToString();
    std::this_thread::sleep_for(Millis(100));
  }
}

}  // namespace
}  // namespace mr
