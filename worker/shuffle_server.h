// ShuffleServer: serves map output to reducers (DESIGN §3, docs/protocol.md). A reducer opens a
// stream with FetchRequest (job, map, attempt, partition) and pulls it chunk by chunk with
// FetchNext; each FetchChunk holds about 4 MiB (or the size asked for) of records in key order;
// the last one says so. One
// chunk per connection is in flight, so memory stays bounded however many reducers fetch.
// Connections reach it through a HelloGate (common/hello_gate.h): it only ever sees reducers that
// proved the cluster token.
// Threading: runs on the io_context's thread; the store is thread-safe.
#pragma once

#include <memory>

#include "common/channel.h"
#include "common/hello_gate.h"
#include "worker/intermediate_store.h"

namespace mr {

class ShuffleServer {
 public:
  // token: the cluster token every reducer must prove it holds ("" = none). timers: for the
  // hello timeout (not owned; nullptr = the io_context's steady timers).
  ShuffleServer(asio::io_context& io, IntermediateStore* store, std::string token = "",
                TimerSource* timers = nullptr)
      : io_(io), store_(store), token_(std::move(token)), timers_(timers) {}
  Status Listen(const HostPort& addr);
  HostPort address() const { return listener_->address(); }
  // Stops accepting and closes the connections still in their hello; open fetches end with
  // their connections.
  void Stop();

 private:
  // The handlers of an authenticated reducer's connection.
  ChannelHandlers OnReady(const std::shared_ptr<Channel>& channel);

  asio::io_context& io_;
  IntermediateStore* store_;
  std::string token_;
  TimerSource* timers_;
  std::unique_ptr<HelloGate> gate_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace mr
