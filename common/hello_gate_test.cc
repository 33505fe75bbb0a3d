// The hello gate's deadline, driven by a manual clock: no sleeping.
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
