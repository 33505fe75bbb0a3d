// SyncClient: a blocking, deadline-bounded connection for request/response peers (the mr CLI
// talking to the master, a reducer fetching from a shuffle server). It is the asynchronous client
// (common/rpc_client.h: TLS, then the hello for `role`) driven on an io_context of its own, so both
// kinds of peers share one handshake and one framing. A refusal by the server (e.g. a wrong token)
// is Status::Aborted "ADDR refused the connection: WHY".
//
// Threading: one thread at a time per SyncClient (it owns a private io_context), except
// Shutdown. Every call takes a timeout and returns an error Status instead of blocking forever;
// after an error the connection is closed and every later call fails.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/frame.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

class Channel;
class TlsContext;

class SyncClient {
 public:
  using Millis = std::chrono::milliseconds;

  static Result<std::unique_ptr<SyncClient>> Connect(const HostPort& addr, proto::Role role,
                                                     std::shared_ptr<TlsContext> tls, Millis timeout,
                                                     uint32_t max_frame = kDefaultMaxFrame);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  Status Send(const proto::Envelope& msg, Millis timeout);
  Result<proto::Envelope> Receive(Millis timeout);
  // Send then Receive; an ErrorReply from the peer becomes an error Status with its message.
  Result<proto::Envelope> Call(const proto::Envelope& msg, Millis timeout);
  const std::string& address() const { return address_; }
  // Closes the connection so that a Receive blocked in another thread returns an error at once.
  // The only method that may be called from another thread.
  void Shutdown();

 private:
  SyncClient() = default;
  // Runs the io_context until done() or the deadline; on timeout closes and returns an error.
  Status RunUntil(const std::function<bool()>& done, Millis timeout, const char* what);
  Status Broken() const;

  asio::io_context io_;
  std::shared_ptr<Channel> channel_;
  std::deque<proto::Envelope> inbox_;
  std::string address_;
  std::string closed_reason_;  // set when the connection ended
  bool closed_ = false;
};

}  // namespace mr
