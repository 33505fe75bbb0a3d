// The connection gate (DESIGN §6, docs/protocol.md): every connection runs its hello exchange
// (common/handshake.h) here, once, before anything else may read it; what comes out is an
// already-authenticated channel, handed over with the role it proved.
//
// HelloGate: the server side, shared by the master and the shuffle server. Accept() starts an
// accepted connection and keeps it "pending" until its ServerHandshake succeeds; then it calls the
// server's on_ready(channel, role), whose returned handlers receive every later message and the
// close. A pending connection that has not finished the exchange within the hello timeout is
// closed; at most max_pending connections are pending at once, and when one more arrives the
// oldest pending one is closed, so idle or slow connections cannot starve real peers. Every
// refusal is logged with the peer's address. A server never sees an unauthenticated message.
//
// StartClientHandshake: the client side for asynchronous peers (the worker's master connection;
// blocking peers use SyncClient). It starts the channel, runs the ClientHandshake and reports the
// outcome once.
//
// Defaults: hello timeout 10 s ($MR_HELLO_TIMEOUT_MS), 1024 pending ($MR_MAX_PENDING_CONNECTIONS),
// at most a quarter of the open-files limit (ConnectionBudget, common/acceptor.h).
// Time comes from a TimerSource (common/timer_source.h): the io_context's steady timers unless a
// test passes a manual one and advances it.
// Threading: the io_context's thread only. Lifetime: callbacks of connections that outlive the
// gate do nothing gate-related (they check a liveness token); a server stops its connections
// before it destroys its gate, or makes its handlers safe to call later.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/channel.h"
#include "common/handshake.h"
#include "common/timer_source.h"

namespace mr {

// What an authenticated connection's owner handles: every later message, and the close.
struct ChannelHandlers {
  Channel::MessageFn on_message;
  Channel::CloseFn on_close;  // optional
};

class HelloGate {
 public:
  // Called once per connection whose hello exchange succeeded, with the role it proved; returns
  // the handlers for the rest of the connection.
  using ReadyFn = std::function<ChannelHandlers(const std::shared_ptr<Channel>&, proto::Role)>;

  // timers: not owned, must outlive the gate; nullptr = the io_context's steady timers.
  HelloGate(asio::io_context& io, std::string server_name, std::string token, std::vector<proto::Role> roles,
            ReadyFn on_ready, TimerSource* timers = nullptr);
  ~HelloGate();
  // Takes a new, not yet started connection: starts it and runs its hello exchange. on_refused
  // (optional) is called with the reason if the connection ends before it is handed over
  // (refused, timed out, evicted, or closed by the peer).
  void Accept(const std::shared_ptr<Channel>& ch, Channel::CloseFn on_refused = nullptr);
  // Where the server's HTTP port is ("host:port"), named in the answer to a peer that sends an
  // HTTP request to this RPC port (an HTTP 400 whose body says so; common/handshake.h).
  void set_http_address(std::string address) { http_address_ = std::move(address); }
  // Closes every pending connection (the server is stopping).
  void CloseAll(const std::string& reason);
  size_t pending() const { return order_.size(); }

 private:
  struct Pending {
    std::weak_ptr<Channel> channel;
    int64_t deadline_ms = 0;  // on timers_'s clock
  };
  struct Connection;
  void Admit(const std::shared_ptr<Channel>& ch);
  void Forget(Channel* ch);
  void OnMessage(Channel& ch, Connection& c, proto::Envelope& m);
  void ArmSweep();

  std::string name_;
  std::string token_;
  std::vector<proto::Role> roles_;
  std::string http_address_;
  ReadyFn on_ready_;
  std::chrono::milliseconds hello_timeout_;
  size_t max_pending_;
  std::list<Pending> order_;  // oldest first
  std::unordered_map<Channel*, std::list<Pending>::iterator> index_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // callbacks after the gate died see it expired
  uint64_t evicted_ = 0;
};

// Starts `ch` (connected, not yet started) and runs the client's side of the hello exchange for
// `role` with `token` ("" = none). Calls done exactly once: with OK when the server accepted us,
// and then the returned handlers receive every later message and the close; or with the reason
// the exchange failed, after which the channel is closed and the returned handlers are ignored.
// A refusal or a server that cannot prove our token is Aborted, a malformed exchange Protocol,
// a connection that closed first Unavailable.
using ClientReadyFn = std::function<ChannelHandlers(const Status&)>;
void StartClientHandshake(const std::shared_ptr<Channel>& ch, std::string token, proto::Role role,
                          ClientReadyFn done);

}  // namespace mr
