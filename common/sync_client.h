// SyncClient: a blocking, deadline-bounded framed connection for request/response peers (the mr
// CLI talking to the master, a reducer fetching from a shuffle server). Connect performs the hello
// exchange (DESIGN §6, common/handshake.h) for the given role with the cluster token ("" for none);
// a refusal by the server (e.g. a wrong token) is Status::Aborted "ADDR refused the connection: WHY".
//
// Threading: one thread at a time per SyncClient (it owns a private io_context). Every call takes
// a timeout and returns an error Status instead of blocking forever; after an error the
// connection is closed and every later call fails.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/frame.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

class SyncClient {
 public:
  using Millis = std::chrono::milliseconds;

  static Result<std::unique_ptr<SyncClient>> Connect(const HostPort& addr, proto::Role role,
                                                     const std::string& token, Millis timeout,
                                                     uint32_t max_frame = kDefaultMaxFrame);
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  Status Send(const proto::Envelope& msg, Millis timeout);
  Result<proto::Envelope> Receive(Millis timeout);
  // Send then Receive; an ErrorReply from the peer becomes an error Status with its message.
  Result<proto::Envelope> Call(const proto::Envelope& msg, Millis timeout);
  const std::string& address() const { return address_; }
  // Shuts the connection down so that a Receive blocked in another thread returns an error at
  // once. The only method that may be called from another thread.
  void Shutdown();

 private:
  SyncClient(uint32_t max_frame) : socket_(io_), max_frame_(max_frame) {}
  // Runs io_ until *done or the deadline; on timeout cancels and returns an error.
  Status RunUntil(const bool& done, Millis timeout, const char* what);

  asio::io_context io_;
  tcp::socket socket_;
  uint32_t max_frame_;
  std::string address_;
  bool broken_ = false;
};

}  // namespace mr
