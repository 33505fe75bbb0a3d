#include "common/acceptor.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(AcceptorTest, ListenAcceptsUntilClosed) {
  asio::io_context io;
  auto acceptor = Listen(io, {"127.0.0.1", 0});
  ASSERT_TRUE(acceptor.ok()) << acceptor.status().ToString();
  uint16_t port = acceptor->local_endpoint().port();
  ASSERT_NE(port, 0);

  int accepted = 0;
  bool loop_ended = false;
  asio::co_spawn(io,
                 AcceptLoop(*acceptor,
                            [&](tcp::socket) {
                              if (++accepted == 2) acceptor->close();
                            }),
                 [&](std::exception_ptr) { loop_ended = true; });
  tcp::socket a(io), b(io);
  a.connect({asio::ip::make_address("127.0.0.1"), port});
  b.connect({asio::ip::make_address("127.0.0.1"), port});
  io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(accepted, 2);
  EXPECT_TRUE(loop_ended);
}

TEST(AcceptorTest, ListenErrors) {
  asio::io_context io;
  auto first = Listen(io, {"127.0.0.1", 0});
  ASSERT_TRUE(first.ok());
  auto taken = Listen(io, {"127.0.0.1", first->local_endpoint().port()});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(taken.status().message().find("cannot listen on 127.0.0.1:"), std::string::npos);
  auto unresolvable = Listen(io, {"no-such-host.invalid", 0});
  ASSERT_FALSE(unresolvable.ok());
  EXPECT_EQ(unresolvable.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace mr
