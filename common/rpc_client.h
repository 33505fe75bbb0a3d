// The connecting side of every mr connection, in one place: resolve and connect (bounded in time),
// the TLS handshake as a client (the server must prove our key or a certificate of our CA), then the
// hello for a role (common/handshake.h). Asynchronous peers (the worker's master connection) call
// ConnectRpc; blocking ones use SyncClient (common/sync_client.h), which drives the same code on an
// io_context of its own.
//
// Outcomes, reported once: OK with the authenticated channel; Aborted when the server refused us
// (a wrong or missing token, a role our credential does not allow, a server that could not prove
// itself); Unavailable when it could not be reached or the connection broke; ResourceExhausted
// when this process had no descriptor or memory to connect with; Protocol when the peer does not
// speak mr (e.g. an HTTP port).
// Threading: on io's thread; done runs there.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "common/channel.h"
#include "common/rpc_server.h"

namespace mr {

struct ConnectOptions {
  std::chrono::milliseconds timeout{5000};  // to connect, and again for the TLS handshake and hello
  ChannelLimits limits = ChannelLimits::Client();
  TimerSource* timers = nullptr;  // not owned; nullptr = steady timers
};

// Called once. With a channel: the hello succeeded, and the returned handlers receive every later
// message and the close. With an error: the channel (if any) is closed; the result is ignored.
using ConnectedFn = std::function<ChannelHandlers(Result<std::shared_ptr<Channel>>)>;

// A failed connect as a Status: Unavailable, or ResourceExhausted (EMFILE and the like: ours, not
// the peer's fault).
Status ConnectError(const HostPort& addr, const boost::system::error_code& ec);

void ConnectRpc(asio::io_context& io, const HostPort& addr, std::shared_ptr<TlsContext> tls, proto::Role role,
                ConnectedFn done, ConnectOptions options = {});

}  // namespace mr
