// HelloGate: the server side of connection admission (DESIGN §6), shared by the master and the
// shuffle server. Each accepted connection is "pending" until its hello exchange (ServerHandshake)
// succeeds. A pending connection that has not finished the exchange within the hello timeout is
// closed; at most max_pending connections are pending at once, and when one more arrives the
// oldest pending one is closed, so idle or slow connections cannot starve real peers. Every
// refusal is logged with the peer's address.
//
// Defaults: hello timeout 10 s ($MR_HELLO_TIMEOUT_MS), 1024 pending ($MR_MAX_PENDING_CONNECTIONS).
// Time comes from a TimerSource (common/timer_source.h): the io_context's steady timers unless a
// test passes a manual one and advances it.
// Threading: the io_context's thread only.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/channel.h"
#include "common/handshake.h"
#include "common/timer_source.h"

namespace mr {

class HelloGate {
 public:
  // timers: not owned, must outlive the gate; nullptr = the io_context's steady timers.
  HelloGate(asio::io_context& io, std::string server_name, std::string token, std::vector<proto::Role> roles,
            TimerSource* timers = nullptr);
  ~HelloGate();
  // A new connection: starts tracking it (call before Channel::Start's first message can arrive).
  void Admit(const std::shared_ptr<Channel>& ch);
  // Feeds a message of a connection whose handshake is not done. Sends the answers; closes the
  // connection on refusal (logged). Returns true once the handshake is done (the caller marks the
  // session greeted).
  bool Handle(Channel& ch, ServerHandshake& hs, const proto::Envelope& m);
  // The connection closed (greeted or not).
  void Forget(Channel* ch);
  ServerHandshake NewHandshake() const { return ServerHandshake(token_, roles_); }
  size_t pending() const { return order_.size(); }

 private:
  struct Pending {
    std::weak_ptr<Channel> channel;
    int64_t deadline_ms = 0;  // on timers_'s clock
  };
  void ArmSweep();

  std::string name_;
  std::string token_;
  std::vector<proto::Role> roles_;
  std::chrono::milliseconds hello_timeout_;
  size_t max_pending_;
  std::list<Pending> order_;  // oldest first
  std::unordered_map<Channel*, std::list<Pending>::iterator> index_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // sweeps scheduled after the gate died see it expired
  uint64_t evicted_ = 0;
};

}  // namespace mr
