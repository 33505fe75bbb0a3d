// Test helpers (tests only; links GoogleTest): blocking raw sockets that speak to our servers the
// way a hostile or minimal peer would -- bytes and frames by hand, no Channel, no handshake code of
// ours but OpenSSL's. Used by the channel, HTTP server, security and observability tests. Each call
// is on the calling thread; the caller owns and closes the descriptors (a RawTls owns its own).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
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
// A TLS 1.3 client on a raw socket: OpenSSL driven by hand (blocking), then bytes and frames
// inside TLS. Owns the descriptor.
class RawTls {
 public:
  // Takes `fd` (connected) and runs the TLS handshake with `token`'s key (common/credentials.h;
  // "" = the local token of the master on the socket's port, if this user has one). ok() says
  // whether the server accepted it (and proved itself); error() why not.
  RawTls(int fd, const std::string& token);
  ~RawTls();
  RawTls(const RawTls&) = delete;
  RawTls& operator=(const RawTls&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }
  // Bytes inside TLS; false when the peer closed first.
  bool Send(std::string_view bytes);
  // One frame within 5 s; Unavailable ("closed", "timeout") if none comes.
  Result<proto::Envelope> ReadFrame();
  // True when the peer closes within `timeout` (what comes first is read and dropped); *why gets
  // OpenSSL's reason when the connection ended with a TLS alert.
  bool ClosedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(10), std::string* why = nullptr);

 private:
  // Reads what is there within `timeout`: >0 bytes, 0 closed, -1 nothing yet.
  int ReadSome(std::string* out, std::chrono::milliseconds timeout);
  int fd_;
  std::shared_ptr<void> context_;  // the TlsContext whose SSL_CTX ssl_ uses
  void* ssl_ = nullptr;            // SSL*
  std::string pending_;            // read, not yet a whole frame
  bool ok_ = false;
  std::string error_;
};

// TLS, then the hello (common/handshake.h) as `role` with `token` ("" as for RawTls); fails the test
// if the server does not accept. The returned connection is ready for frames.
std::unique_ptr<RawTls> RawHandshake(int fd, proto::Role role, const std::string& token = "");
// The resident memory of process `pid` in bytes (VmRSS in /proc/PID/status); 0 if unknown.
uint64_t ResidentBytes(int pid);

}  // namespace mr
