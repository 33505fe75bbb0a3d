// Test helpers (tests only; links GoogleTest): blocking raw sockets that speak to our servers the
// way a hostile or minimal peer would -- bytes and frames by hand, no Channel, no handshake code.
// Used by the channel, HTTP server, security and observability tests. Each call is on the calling
// thread; the caller owns and closes the descriptors.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

// Connects to 127.0.0.1:port; a failed connect fails the test (the descriptor is returned anyway).
// A non-zero recv_timeout bounds every blocking read (SO_RCVTIMEO).
int RawConnect(uint16_t port, std::chrono::milliseconds recv_timeout = {});
// Connects to "HOST:PORT" (resolved); -1 when that fails.
int RawConnect(const std::string& address, std::chrono::milliseconds recv_timeout = {});

// Sends every byte; false when the peer closed first (no SIGPIPE). Servers may close on a bad
// request before reading all of it, so a test sending one ignores the result.
bool SendBytes(int fd, std::string_view bytes);
// Sends every byte and fails the test if it cannot.
void SendAll(int fd, std::string_view bytes);

// Reads one frame within 5 s; Unavailable ("closed", "timeout") if none comes.
Result<proto::Envelope> ReadFrame(int fd);
// True when the peer closes the connection within `timeout` (reads and drops what comes first).
bool ClosedByPeer(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Everything until the peer closes or a read times out; *closed says which.
std::string ReadToEnd(int fd, bool* closed = nullptr);
// Completes the hello exchange (common/handshake.h) as `role` with `token` ("" for none); fails the
// test if the server does not accept.
void RawHandshake(int fd, proto::Role role, const std::string& token = "");
// The resident memory of process `pid` in bytes (VmRSS in /proc/PID/status); 0 if unknown.
uint64_t ResidentBytes(int pid);

}  // namespace mr
