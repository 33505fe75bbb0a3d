// The connection layer end to end on loopback: RpcServer (TLS, then the hello) against the client
// connector, with the hello deadline on a manual clock (no sleeping); credentials and roles; an
// HTTP request on the RPC port; a relay on the path that records and injects; certificates.
#include "common/rpc_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "common/credentials.h"
#include "common/frame.h"
#include "common/handshake.h"
#include "common/raw_socket_testing.h"
#include "common/record.h"
#include "common/rpc_client.h"
#include "common/temp_dir_testing.h"
#include "common/timer_source.h"
#include "common/tls.h"
#include "common/tls_testing.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

// Runs io until pred() holds; false after 10 s (loopback delivery only).
bool RunUntil(asio::io_context& io, const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_one_for(Millis(10));
  }
  return true;
}

std::shared_ptr<TlsContext> Tls(const std::string& token_text, std::shared_ptr<UserDirectory> users = nullptr,
                                TestCert cert = {}, const std::string& ca = "") {
  TlsOptions o;
  o.token = *Token::Parse(token_text);
  o.users = std::move(users);
  o.cert_file = cert.cert;
  o.key_file = cert.key;
  o.ca_file = ca;
  auto t = TlsContext::Make(std::move(o));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : nullptr;
}

constexpr const char* kCluster = "the-cluster-token-0123456789";

// What the server handed over.
struct Seen {
  int handed_over = 0;
  proto::Role role = proto::ROLE_UNSPECIFIED;
  PeerCredential credential;
  std::vector<proto::Envelope> messages;
};

std::shared_ptr<RpcServer> StartServer(asio::io_context& io, std::shared_ptr<TlsContext> tls, std::vector<proto::Role> roles,
                                       Seen& seen, TimerSource* timers = nullptr) {
  auto s = RpcServer::Start(
      io, "test", {"127.0.0.1", 0}, std::move(tls), std::move(roles),
      [&seen](const std::shared_ptr<Channel>& ch, proto::Role role) {
        seen.handed_over++;
        seen.role = role;
        seen.credential = ch->credential();
        Channel* raw = ch.get();
        return ChannelHandlers{[&seen, raw](proto::Envelope& m) {
                                 seen.messages.push_back(m);
                                 raw->Send(m);  // echo
                               },
                               nullptr};
      },
      RpcServerOptions{}, timers);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

struct Connected {
  bool done = false;
  Status status;
  std::shared_ptr<Channel> channel;
  std::vector<proto::Envelope> messages;
};

void Connect(asio::io_context& io, uint16_t port, std::shared_ptr<TlsContext> tls, proto::Role role, Connected& c) {
  ConnectRpc(io, {"127.0.0.1", port}, std::move(tls), role, [&c](Result<std::shared_ptr<Channel>> r) {
    c.done = true;
    c.status = r.status();
    if (r.ok()) c.channel = *r;
    return ChannelHandlers{[&c](proto::Envelope& m) { c.messages.push_back(m); }, nullptr};
  });
  ASSERT_TRUE(RunUntil(io, [&] { return c.done; }));
}

TEST(RpcServerTest, AConnectionWithoutAHelloIsClosedAtItsDeadline) {
  asio::io_context io;
  ManualTimerSource clock;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_CLIENT}, seen, &clock);
  tcp::socket client(io);
  client.connect({asio::ip::make_address("127.0.0.1"), server->address().port});
  ASSERT_TRUE(RunUntil(io, [&] { return server->pending() == 1; }));
  clock.Advance(Millis(9000));
  io.poll();
  EXPECT_EQ(server->pending(), 1u);
  clock.Advance(Millis(1500));
  ASSERT_TRUE(RunUntil(io, [&] { return server->pending() == 0; }));
  char byte;
  error_code ec;
  client.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(seen.handed_over, 0);
}

TEST(RpcServerTest, AnHttpRequestIsAnswered400NamingTheHttpPort) {
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_CLIENT}, seen);
  server->set_http_address("http://127.0.0.1:7071");
  std::thread t([&] {
    int fd = RawConnect(server->address().port, Millis(5000));
    SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    bool closed = false;
    std::string answer = ReadToEnd(fd, &closed);
    ::close(fd);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
    EXPECT_TRUE(answer.ends_with("this is the mr test's RPC port, which speaks TLS and framed protobuf "
                                 "(docs/protocol.md), not HTTP; its dashboard and HTTP API are at "
                                 "http://127.0.0.1:7071/\n"))
        << answer;
    // Other bytes that are not TLS are refused without a word.
    fd = RawConnect(server->address().port, Millis(5000));
    SendAll(fd, std::string("\xff\xff\xff\xff", 4));
    EXPECT_EQ(ReadToEnd(fd, &closed), "");
    EXPECT_TRUE(closed);
    ::close(fd);
  });
  io.run_for(Millis(1500));
  t.join();
  EXPECT_EQ(HttpOnRpcPortReply(std::string("\0\0\0\x10", 4), "master", ""), std::nullopt);
  EXPECT_NE(HttpOnRpcPortReply("POST", "shuffle", "")->find("HTTP, if it serves any, is on another port"),
            std::string::npos);
}

TEST(RpcServerTest, TheClusterTokenIsHandedOverWithItsRoleAndSeesOnlyLaterMessages) {
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_WORKER}, seen);
  Connected c;
  Connect(io, server->address().port, Tls(kCluster), proto::ROLE_WORKER, c);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(seen.handed_over, 1);
  EXPECT_EQ(seen.role, proto::ROLE_WORKER);
  EXPECT_TRUE(seen.credential.cluster());
  EXPECT_EQ(server->pending(), 0u);
  proto::Envelope hb;
  hb.mutable_heartbeat();
  c.channel->Send(hb);
  ASSERT_TRUE(RunUntil(io, [&] { return !c.messages.empty(); }));
  ASSERT_EQ(seen.messages.size(), 1u);
  EXPECT_TRUE(seen.messages[0].has_heartbeat());
}

TEST(RpcServerTest, AWrongOrMissingTokenIsRefusedOnBothSidesAndNothingIsHandedOver) {
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_WORKER, proto::ROLE_CLIENT}, seen);
  for (std::string token : {"another-cluster-token-0123", ""}) {
    Connected c;
    Connect(io, server->address().port, Tls(token), proto::ROLE_CLIENT, c);
    EXPECT_EQ(c.status.code(), Status::Code::kAborted) << c.status.ToString();
    EXPECT_NE(c.status.message().find("authentication failed"), std::string::npos) << c.status.ToString();
  }
  ASSERT_TRUE(RunUntil(io, [&] { return server->pending() == 0; }));
  EXPECT_EQ(seen.handed_over, 0);
}

// A user's token authenticates a client as that user, and cannot take a worker's role; the cluster
// token is an admin client.
TEST(RpcServerTest, AUserTokenIsAClientAndNeverAWorker) {
  TempDir dir;
  auto alice = *NewToken("alice");
  auto bob = *NewToken("bob");
  std::string users = dir / "users";
  std::ofstream(users) << UsersFileLine(alice) << "\n" << UsersFileLine(bob) << "\tadmin\n";
  ::chmod(users.c_str(), 0600);
  auto dirs = UserDirectory::Load(users);
  ASSERT_TRUE(dirs.ok()) << dirs.status().ToString();
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster, *dirs), {proto::ROLE_WORKER, proto::ROLE_CLIENT}, seen);
  Connected c;
  Connect(io, server->address().port, Tls(TokenText(alice)), proto::ROLE_CLIENT, c);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(seen.credential.kind, PeerCredential::Kind::kUser);
  EXPECT_EQ(seen.credential.user, "alice");
  EXPECT_FALSE(seen.credential.admin);
  EXPECT_EQ(seen.credential.Owner(), "alice");
  Connected w;
  Connect(io, server->address().port, Tls(TokenText(alice)), proto::ROLE_WORKER, w);
  EXPECT_EQ(w.status.code(), Status::Code::kAborted);
  EXPECT_NE(w.status.message().find("needs the cluster credential"), std::string::npos) << w.status.ToString();
  Connected b;
  Connect(io, server->address().port, Tls(TokenText(bob)), proto::ROLE_CLIENT, b);
  ASSERT_TRUE(b.status.ok());
  EXPECT_TRUE(seen.credential.admin);
  EXPECT_TRUE(seen.credential.MayActOn("alice"));
  EXPECT_EQ(seen.handed_over, 2);
  // A user's token only works as that user: another name with the same secret is refused.
  Token forged = alice;
  forged.user = "bob";
  Connected f;
  Connect(io, server->address().port, Tls(TokenText(forged)), proto::ROLE_CLIENT, f);
  EXPECT_EQ(f.status.code(), Status::Code::kAborted) << f.status.ToString();
  // Rotation: a second token of alice's is valid beside the first; revoked by a reload without it.
  auto alice2 = *NewToken("alice");
  std::ofstream(users, std::ios::app) << UsersFileLine(alice2) << "\n";
  ASSERT_TRUE((*dirs)->Reload().ok());
  for (const Token& t : {alice, alice2}) {
    Connected r;
    Connect(io, server->address().port, Tls(TokenText(t)), proto::ROLE_CLIENT, r);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  }
  std::ofstream(users, std::ios::trunc) << UsersFileLine(alice2) << "\n";
  ASSERT_TRUE((*dirs)->Reload().ok());
  Connected old;
  Connect(io, server->address().port, Tls(TokenText(alice)), proto::ROLE_CLIENT, old);
  EXPECT_EQ(old.status.code(), Status::Code::kAborted);
}

TEST(RpcServerTest, ARoleTheServerDoesNotServeIsRefused) {
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_CLIENT}, seen);
  Connected c;
  Connect(io, server->address().port, Tls(kCluster), proto::ROLE_SHUFFLE, c);
  EXPECT_EQ(c.status.code(), Status::Code::kAborted) << c.status.ToString();
  EXPECT_NE(c.status.message().find("not served here"), std::string::npos) << c.status.message();
  EXPECT_EQ(seen.handed_over, 0);
}

// A relay on the path sees no plaintext; bytes it injects into an authenticated connection close it
// with an integrity error; the bytes it recorded, replayed on a new connection, authenticate
// nothing (the server's key share is fresh).
TEST(RpcServerTest, ARelayOnThePathReadsNothingAndInjectsNothing) {
  asio::io_context io;
  Seen seen;
  auto server = StartServer(io, Tls(kCluster), {proto::ROLE_WORKER}, seen);
  TcpRelay relay(server->address().port);
  Connected c;
  std::string closed;
  ConnectRpc(io, {"127.0.0.1", relay.port()}, Tls(kCluster), proto::ROLE_WORKER, [&](Result<std::shared_ptr<Channel>> r) {
    c.done = true;
    c.status = r.status();
    if (r.ok()) c.channel = *r;
    return ChannelHandlers{[&c](proto::Envelope& m) { c.messages.push_back(m); },
                           [&closed](const std::string& why) { closed = why; }};
  });
  ASSERT_TRUE(RunUntil(io, [&] { return c.done; }));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  proto::Envelope secret;
  secret.mutable_task_report()->set_error("MARKER-the-input-path-/data/secret.txt");
  c.channel->Send(secret);
  ASSERT_TRUE(RunUntil(io, [&] { return c.messages.size() == 1; }));
  EXPECT_EQ(relay.from_client().find("MARKER"), std::string::npos);
  EXPECT_EQ(relay.from_server().find("MARKER"), std::string::npos);
  EXPECT_EQ(relay.from_client().find("secret.txt"), std::string::npos);

  // A well-formed frame, and random bytes, injected towards the server.
  proto::Envelope assign;
  assign.mutable_assign_task()->set_mapper("touch /tmp/pwned");
  ASSERT_TRUE(relay.Inject(EncodeFrame(assign)));
  ASSERT_TRUE(RunUntil(io, [&] { return relay.target_closed() && !closed.empty(); }));
  EXPECT_EQ(seen.messages.size(), 1u);  // the injected frame never reached the server's handlers

  // The recorded client bytes replayed as a new connection: refused in the TLS handshake.
  std::string recorded = relay.from_client();
  std::thread replay([&] {
    int fd = RawConnect(server->address().port, Millis(5000));
    SendBytes(fd, recorded);
    bool was_closed = false;
    ReadToEnd(fd, &was_closed);
    ::close(fd);
  });
  io.run_for(Millis(1000));
  replay.join();
  EXPECT_EQ(seen.handed_over, 1);
}

TEST(RpcServerTest, InjectedBytesAreAnIntegrityErrorOnTheServer) {
  asio::io_context io;
  std::string why;
  auto server = RpcServer::Start(
      io, "test", {"127.0.0.1", 0}, Tls(kCluster), {proto::ROLE_CLIENT},
      [&why](const std::shared_ptr<Channel>&, proto::Role) {
        return ChannelHandlers{[](proto::Envelope&) {}, [&why](const std::string& w) { why = w; }};
      });
  ASSERT_TRUE(server.ok());
  std::thread t([&] {
    auto c = RawHandshake(RawConnect((*server)->address().port, Millis(5000)), proto::ROLE_CLIENT, kCluster);
    ASSERT_TRUE(c->ok());
    // A TLS application-data record header and bytes that are not from the session's keys.
    SendAll(c->fd(), std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'x'));
    std::string alert;
    EXPECT_TRUE(c->ClosedByPeer(Millis(5000), &alert));
  });
  ASSERT_TRUE(RunUntil(io, [&] { return !why.empty(); }));
  t.join();
  EXPECT_NE(why.find("TLS integrity error"), std::string::npos) << why;
}

// Certificates of one CA authenticate the cluster (both ways); users still come with tokens; a
// certificate of another CA gets nothing, and a client without the CA does not trust a server's
// certificate.
TEST(RpcServerTest, CertificatesAuthenticateTheClusterBesideUserTokens) {
  TempDir dir;
  TestPki pki(dir.path(), "cluster-ca");
  TestPki other(dir.path(), "other-ca");
  auto alice = *NewToken("alice");
  std::string users = dir / "users";
  std::ofstream(users) << UsersFileLine(alice) << "\n";
  ::chmod(users.c_str(), 0600);
  asio::io_context io;
  Seen seen;
  auto server =
      StartServer(io, Tls("", *UserDirectory::Load(users), pki.Issue("master"), pki.ca_file()),
                  {proto::ROLE_WORKER, proto::ROLE_CLIENT}, seen);
  Connected w;
  Connect(io, server->address().port, Tls("", nullptr, pki.Issue("worker1"), pki.ca_file()), proto::ROLE_WORKER, w);
  ASSERT_TRUE(w.status.ok()) << w.status.ToString();
  EXPECT_TRUE(seen.credential.cluster());
  Connected u;
  Connect(io, server->address().port, Tls(TokenText(alice)), proto::ROLE_CLIENT, u);
  ASSERT_TRUE(u.status.ok()) << u.status.ToString();
  EXPECT_EQ(seen.credential.user, "alice");
  Connected stranger;
  Connect(io, server->address().port, Tls("", nullptr, other.Issue("intruder"), other.ca_file()), proto::ROLE_WORKER,
          stranger);
  EXPECT_EQ(stranger.status.code(), Status::Code::kAborted) << stranger.status.ToString();
  Connected no_ca;
  Connect(io, server->address().port, Tls(kCluster), proto::ROLE_CLIENT, no_ca);
  EXPECT_EQ(no_ca.status.code(), Status::Code::kAborted) << no_ca.status.ToString();
  EXPECT_EQ(seen.handed_over, 2);
}

TEST(RpcServerTest, ManualTimersRunInDueOrderWithTheClockAtTheirTime) {
  ManualTimerSource clock;
  std::vector<std::pair<int, int64_t>> ran;
  clock.After(Millis(300), [&] { ran.push_back({3, clock.NowMs()}); });
  clock.After(Millis(100), [&] {
    ran.push_back({1, clock.NowMs()});
    clock.After(Millis(100), [&] { ran.push_back({2, clock.NowMs()}); });
  });
  clock.Advance(Millis(250));
  EXPECT_EQ(ran, (std::vector<std::pair<int, int64_t>>{{1, 100}, {2, 200}}));
  EXPECT_EQ(clock.NowMs(), 250);
  EXPECT_EQ(clock.pending(), 1u);
}

}  // namespace
}  // namespace mr
