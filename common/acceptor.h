// The listening half of every server (the RPC Listener in channel.h, the master's HttpServer):
// binding an address, and the loop that accepts connections until the acceptor is closed.
//
// Threading: the loop runs on the acceptor's executor and calls on_socket there. Ownership: the
// caller keeps the acceptor alive while the loop runs (capture a shared_ptr to its owner in
// on_socket, which the loop holds until it ends).
#pragma once

#include <chrono>
#include <functional>

#include "common/asio.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

// How long the loop waits after an accept error (out of file descriptors and the like) before it
// tries again, instead of spinning.
inline constexpr std::chrono::milliseconds kAcceptBackoff{50};

// Resolves `addr` and listens on it (SO_REUSEADDR; port 0 picks a free port, read it back from
// local_endpoint()). InvalidArgument when the host does not resolve, Unavailable when the address
// cannot be bound.
Result<tcp::acceptor> Listen(asio::io_context& io, const HostPort& addr);

struct AcceptOptions {
  // Awaited before each accept: a server over its connection budget waits here for room.
  std::function<asio::awaitable<void>()> wait_for_room;
  // Out of file descriptors (EMFILE, ENFILE): frees one if it can (true: accept again at once).
  std::function<bool()> free_descriptor;
};

// Accepts connections and hands each socket to on_socket until the acceptor is closed. Out of
// descriptors, it asks free_descriptor; other errors, and that one when nothing could be freed,
// back off for kAcceptBackoff and retry (logged at most once a second): the server keeps serving.
asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> on_socket,
                                 AcceptOptions options = {});

}  // namespace mr
