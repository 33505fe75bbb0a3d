// ShuffleServer: serves map output to reducers (DESIGN §3, docs/protocol.md). A reducer opens a
// stream with FetchRequest (job, map, attempt, partition) and pulls it chunk by chunk with
// FetchNext; each FetchChunk holds about 4 MiB (or the size asked for) of records in key order;
// the last one says so. One
// chunk per connection is in flight, so memory stays bounded however many reducers fetch.
// Threading: runs on the io_context's thread; the store is thread-safe.
#pragma once

#include <memory>

#include "common/channel.h"
#include "common/hello_gate.h"
#include "worker/intermediate_store.h"

namespace mr {

class ShuffleServer {
 public:
  // token: the cluster token every reducer must prove it holds ("" = none).
  ShuffleServer(asio::io_context& io, IntermediateStore* store, std::string token = "")
      : io_(io), store_(store), token_(std::move(token)) {}
  Status Listen(const HostPort& addr);
  HostPort address() const { return listener_->address(); }
  void Stop();

 private:
  void OnAccept(std::shared_ptr<Channel> channel);

  asio::io_context& io_;
  IntermediateStore* store_;
  std::string token_;
  std::unique_ptr<HelloGate> gate_;
  std::shared_ptr<Listener> listener_;
};

}  // namespace mr
