// The connection gate: the hello deadline driven by a manual clock (no sleeping), and the hand-over
// of authenticated channels between StartClientHandshake and HelloGate on loopback.
#include "common/hello_gate.h"

#include <gtest/gtest.h>

#include "common/timer_source.h"

namespace mr {
namespace {

// A connection accepted on loopback, as a server-side Channel, with its client socket kept open.
struct Accepted {
  tcp::socket client;
  std::shared_ptr<Channel> server;
};

Accepted Accept(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server(io);
  acceptor.accept(server);
  return {std::move(client), std::make_shared<Channel>(std::move(server))};
}

TEST(HelloGateTest, AConnectionWithoutAHelloIsClosedAtItsDeadline) {
  asio::io_context io;
  ManualTimerSource clock;
  bool handed_over = false;
  HelloGate gate(io, "test", "", {proto::ROLE_CLIENT},
                 [&](const std::shared_ptr<Channel>&, proto::Role) {
                   handed_over = true;
                   return ChannelHandlers{[](proto::Envelope&) {}, nullptr};
                 },
                 &clock);
  Accepted c = Accept(io);
  std::string closed;
  gate.Accept(c.server, [&](const std::string& why) { closed = why; });
  io.poll();
  EXPECT_EQ(gate.pending(), 1u);
  clock.Advance(std::chrono::milliseconds(9000));
  io.poll();
  EXPECT_TRUE(closed.empty()) << closed;
  clock.Advance(std::chrono::milliseconds(1500));
  io.poll();
  EXPECT_EQ(closed, "no hello within 10000 ms");
  EXPECT_EQ(gate.pending(), 0u);
  EXPECT_FALSE(handed_over);
}

// Runs io until pred() holds; false after 10 s (loopback delivery only).
bool RunUntil(asio::io_context& io, const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

struct Handshaken {
  bool done = false;
  Status status;
  bool handed_over = false;
  proto::Role role = proto::ROLE_UNSPECIFIED;
  std::vector<proto::Envelope> server_saw;
  std::string refused;
};

// A gate with server_token and a client with client_token on one loopback connection.
void Handshake(asio::io_context& io, HelloGate& gate, Handshaken& h, const std::string& client_token,
               std::shared_ptr<Channel>* client_out) {
  Accepted c = Accept(io);
  auto client = std::make_shared<Channel>(std::move(c.client));
  gate.Accept(c.server, [&h](const std::string& why) { h.refused = why; });
  StartClientHandshake(client, client_token, proto::ROLE_WORKER, [&h](const Status& st) {
    h.done = true;
    h.status = st;
    return ChannelHandlers{[](proto::Envelope&) {}, nullptr};
  });
  ASSERT_TRUE(RunUntil(io, [&] { return h.done; }));
  *client_out = client;
}

HelloGate::ReadyFn Recording(Handshaken& h) {
  return [&h](const std::shared_ptr<Channel>&, proto::Role role) {
    h.handed_over = true;
    h.role = role;
    return ChannelHandlers{[&h](proto::Envelope& m) { h.server_saw.push_back(m); }, nullptr};
  };
}

// What the client of `gate` reads after sending `bytes` first, until the server closes.
std::string AnswerTo(asio::io_context& io, HelloGate& gate, const std::string& bytes, std::string* closed) {
  Accepted c = Accept(io);
  gate.Accept(c.server, [closed](const std::string& why) { *closed = why; });
  asio::write(c.client, asio::buffer(bytes));
  EXPECT_TRUE(RunUntil(io, [&] { return !closed->empty(); }));
  std::string answer;
  error_code ec;
  asio::read(c.client, asio::dynamic_buffer(answer), ec);  // to the server's close
  return answer;
}

TEST(HelloGateTest, AnHttpRequestIsAnswered400NamingTheHttpPort) {
  asio::io_context io;
  HelloGate gate(io, "master", "", {proto::ROLE_CLIENT},
                 [](const std::shared_ptr<Channel>&, proto::Role) { return ChannelHandlers{}; });
  gate.set_http_address("127.0.0.1:7071");
  std::string closed;
  std::string answer = AnswerTo(io, gate, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
  EXPECT_TRUE(answer.ends_with("this is the mr master's RPC port, which speaks framed protobuf "
                               "(docs/protocol.md), not HTTP; its dashboard and HTTP API are at "
                               "http://127.0.0.1:7071/\n"))
      << answer;
  EXPECT_EQ(closed, "not the mr protocol (an HTTP request)");
  // Other oversized headers are refused without a word.
  closed.clear();
  answer = AnswerTo(io, gate, std::string("\xff\xff\xff\xff", 4), &closed);
  EXPECT_EQ(answer, "");
  EXPECT_NE(closed.find("exceeds the limit"), std::string::npos) << closed;
  EXPECT_EQ(HttpOnRpcPortReply("\0\0\0\x10", "master", ""), std::nullopt);
  EXPECT_NE(HttpOnRpcPortReply("POST", "shuffle", "")->find("HTTP, if it serves any, is on another port"),
            std::string::npos);
}

TEST(HelloGateTest, AnAuthenticatedChannelIsHandedOverAndItsOwnerSeesOnlyLaterMessages) {
  asio::io_context io;
  Handshaken h;
  HelloGate gate(io, "test", "secret", {proto::ROLE_WORKER}, Recording(h));
  std::shared_ptr<Channel> client;
  Handshake(io, gate, h, "secret", &client);
  ASSERT_TRUE(h.status.ok()) << h.status.ToString();
  EXPECT_TRUE(h.handed_over);
  EXPECT_EQ(h.role, proto::ROLE_WORKER);
  EXPECT_EQ(gate.pending(), 0u);
  proto::Envelope hb;
  hb.mutable_heartbeat();
  client->Send(hb);
  ASSERT_TRUE(RunUntil(io, [&] { return !h.server_saw.empty(); }));
  ASSERT_EQ(h.server_saw.size(), 1u);
  EXPECT_TRUE(h.server_saw[0].has_heartbeat());
  EXPECT_TRUE(h.refused.empty()) << h.refused;
}

TEST(HelloGateTest, AWrongTokenIsRefusedOnBothSidesAndNothingIsHandedOver) {
  asio::io_context io;
  Handshaken h;
  HelloGate gate(io, "test", "secret", {proto::ROLE_WORKER}, Recording(h));
  std::shared_ptr<Channel> client;
  Handshake(io, gate, h, "wrong", &client);
  EXPECT_EQ(h.status.code(), Status::Code::kAborted) << h.status.ToString();
  ASSERT_TRUE(RunUntil(io, [&] { return !h.refused.empty(); }));
  EXPECT_FALSE(h.handed_over);
  EXPECT_EQ(gate.pending(), 0u);
}

TEST(HelloGateTest, ARoleTheServerDoesNotServeIsRefused) {
  asio::io_context io;
  Handshaken h;
  HelloGate gate(io, "test", "", {proto::ROLE_CLIENT}, Recording(h));
  std::shared_ptr<Channel> client;
  Handshake(io, gate, h, "", &client);  // the client says ROLE_WORKER
  EXPECT_EQ(h.status.code(), Status::Code::kAborted) << h.status.ToString();
  EXPECT_NE(h.status.message().find("not served here"), std::string::npos) << h.status.message();
  EXPECT_FALSE(h.handed_over);
}

TEST(HelloGateTest, ManualTimersRunInDueOrderWithTheClockAtTheirTime) {
  ManualTimerSource clock;
  std::vector<std::pair<int, int64_t>> ran;
  clock.After(std::chrono::milliseconds(300), [&] { ran.push_back({3, clock.NowMs()}); });
  clock.After(std::chrono::milliseconds(100), [&] {
    ran.push_back({1, clock.NowMs()});
    clock.After(std::chrono::milliseconds(100), [&] { ran.push_back({2, clock.NowMs()}); });
  });
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(ran, (std::vector<std::pair<int, int64_t>>{{1, 100}, {2, 200}}));
  EXPECT_EQ(clock.NowMs(), 250);
  EXPECT_EQ(clock.pending(), 1u);
}

}  // namespace
}  // namespace mr
