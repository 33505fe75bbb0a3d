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

// How many connections a server lets wait for their first request or hello at once: the value of
// environment variable `env` (when a positive number) or `configured`, and at most a quarter of the
// open-files limit (common/fd_limit.h; at least 16), so that a flood of silent connections cannot
// use up the descriptors that real peers, files and the other servers need.
size_t ConnectionBudget(const char* env, size_t configured);
// `configured`, at most a quarter of the open-files limit (at least 16).
size_t CapToFdBudget(size_t configured);
// A duration in milliseconds from environment variable `env` (a number >= 0), else `def`.
std::chrono::milliseconds EnvMillis(const char* env, std::chrono::milliseconds def);

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

// The options of a server with a connection budget (the RPC Listener, the HTTP server): at
// `budget` connections (count()), accepting pauses -- new connections wait in the kernel's backlog
// -- until one ends or close_oldest(grace, false) closes the oldest connection that has waited at
// least `grace` for its hello or request (true: one was closed), so a burst of real peers is served
// in order while idle or slow ones cannot hold every slot. Out of descriptors (EMFILE, ENFILE),
// close_oldest(fd_grace, true) frees one. The acceptor must outlive the loop.
AcceptOptions BudgetedAccept(tcp::acceptor& acceptor, size_t budget, std::function<size_t()> count,
                             std::function<bool(std::chrono::milliseconds, bool)> close_oldest,
                             std::chrono::milliseconds grace, std::chrono::milliseconds fd_grace);

// Accepts connections and hands each socket to on_socket until the acceptor is closed. Out of
// descriptors, it asks free_descriptor; other errors, and that one when nothing could be freed,
// back off for kAcceptBackoff and retry (logged at most once a second): the server keeps serving.
asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> on_socket,
                                 AcceptOptions options = {});

}  // namespace mr
