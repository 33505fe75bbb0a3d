// RpcServer: the listening side of every mr connection (the master's RPC port, a worker's shuffle
// server), in one place: it binds, accepts, runs each connection's TLS handshake and hello
// (common/channel.h, common/handshake.h) and hands over only authenticated channels, with the role
// the peer's credential allowed. A server never sees an unauthenticated message.
//
// Connection slots are budgeted (docs/protocol.md): at most `max_pending` accepted connections
// (and at most a quarter of the open-files limit, ConnectionBudget) wait for their handshake and
// hello at once. At the budget, accepting pauses (new connections wait in the kernel's backlog)
// until one finishes or the oldest has waited kPendingGrace, which is then closed; so a burst of
// reconnecting workers is served in order while floods of idle connections cannot lock real peers
// out. Out of descriptors (EMFILE, ENFILE), the oldest waiting connection is closed once it has
// waited kFdGrace, and accepting goes on. A connection that has not finished its hello within
// `hello_timeout` is closed. Every refusal is logged with the peer's address; an HTTP request sent
// to the port is answered 400 with where the HTTP port is.
//
// Time comes from a TimerSource (common/timer_source.h): steady timers unless a test passes a
// manual one and advances it; the channels use the same one.
// Threading: the io_context's thread only. Lifetime: shared; Stop() ends accepting and closes the
// pending connections; the handed-over channels belong to their handlers.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/channel.h"
#include "common/timer_source.h"

namespace mr {

class TlsContext;

// What an authenticated connection's owner handles: every later message, and the close.
struct ChannelHandlers {
  Channel::MessageFn on_message;
  Channel::CloseFn on_close;  // optional
};

struct RpcServerOptions {
  ChannelLimits limits = ChannelLimits::Server();
  std::chrono::milliseconds hello_timeout{10000};
  size_t max_pending = 1024;

  // The defaults, overridden by $MR_FRAME_TIMEOUT_MS, $MR_IDLE_TIMEOUT_MS, $MR_HELLO_TIMEOUT_MS and
  // $MR_MAX_PENDING_CONNECTIONS. Read by the process entry points (RunMaster, RunWorker), never
  // deeper.
  static RpcServerOptions FromEnv();
};

class RpcServer : public std::enable_shared_from_this<RpcServer> {
 public:
  static constexpr std::chrono::milliseconds kPendingGrace{1000};
  static constexpr std::chrono::milliseconds kFdGrace{100};

  // Called once per connection whose hello succeeded, with the role it proved; returns the
  // handlers for the rest of the connection.
  using ReadyFn = std::function<ChannelHandlers(const std::shared_ptr<Channel>&, proto::Role)>;

  // Binds `addr` (port 0 picks a free port) and starts accepting. `name` is used in logs ("master",
  // "shuffle"). timers: not owned, must outlive the server and its channels; nullptr = steady
  // timers.
  static Result<std::shared_ptr<RpcServer>> Start(asio::io_context& io, std::string name, const HostPort& addr,
                                                  std::shared_ptr<TlsContext> tls, std::vector<proto::Role> roles,
                                                  ReadyFn on_ready, RpcServerOptions options = {},
                                                  TimerSource* timers = nullptr);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  HostPort address() const { return {host_, port_}; }
  // Where the server's HTTP port is ("http://host:port"), named in the answer to an HTTP request.
  void set_http_address(std::string address) { http_address_ = std::move(address); }
  // Stops accepting and closes every connection still in its handshake. Idempotent.
  void Stop();
  // Connections accepted and not yet handed over nor closed.
  size_t pending() const { return order_.size(); }
  size_t max_pending() const { return max_pending_; }

 private:
  struct Pending {
    std::weak_ptr<Channel> channel;
    int64_t since_ms = 0;  // on timers_'s clock
  };
  struct Connection;
  RpcServer(asio::io_context& io, std::string name, tcp::acceptor acceptor, std::shared_ptr<TlsContext> tls,
            std::vector<proto::Role> roles, ReadyFn on_ready, RpcServerOptions options, TimerSource* timers);
  asio::awaitable<void> AcceptLoop();
  void OnSocket(tcp::socket socket);
  void OnMessage(Channel& ch, Connection& c, proto::Envelope& m);
  void Forget(Channel* ch);
  bool CloseOldest(std::chrono::milliseconds min_age, const char* why);
  void ArmSweep();

  asio::io_context& io_;
  std::string name_;
  tcp::acceptor acceptor_;
  std::shared_ptr<TlsContext> tls_;
  std::vector<proto::Role> roles_;
  ReadyFn on_ready_;
  RpcServerOptions options_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  size_t max_pending_;
  std::string host_;
  uint16_t port_ = 0;
  std::string http_address_;
  std::list<Pending> order_;  // oldest first
  std::unordered_map<Channel*, std::list<Pending>::iterator> index_;
  bool stopped_ = false;
  uint64_t evicted_ = 0;
};

}  // namespace mr
