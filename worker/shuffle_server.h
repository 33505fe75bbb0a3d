// ShuffleServer: serves map output to reducers (DESIGN §3, docs/protocol.md). A reducer opens a
// stream with FetchRequest (job, map, attempt, partition) and pulls it chunk by chunk with
// FetchNext; each FetchChunk holds about 4 MiB (or the size asked for) of records in key order;
// the last one says so. One
// chunk per connection is in flight, so memory stays bounded however many reducers fetch.
// Connections reach it through an RpcServer (common/rpc_server.h): it only ever sees peers that
// proved the cluster credential over TLS, and it serves a job's output only to a request that shows
// the job's shuffle secret (which the master gives that job's tasks alone; the store keeps it).
// Threading: runs on the io_context's thread; the store is thread-safe.
#pragma once

#include <memory>

#include "common/rpc_server.h"
#include "worker/intermediate_store.h"

namespace mr {

class ShuffleServer {
 public:
  // tls: the process's (common/tls.h). timers: for the hello timeout (not owned; nullptr = the
  // io_context's steady timers).
  ShuffleServer(asio::io_context& io, IntermediateStore* store, std::shared_ptr<TlsContext> tls,
                RpcServerOptions options = {}, TimerSource* timers = nullptr)
      : io_(io), store_(store), tls_(std::move(tls)), options_(options), timers_(timers) {}
  Status Listen(const HostPort& addr);
  HostPort address() const { return server_->address(); }
  // Stops accepting and closes the connections still in their hello; open fetches end with
  // their connections.
  void Stop();

 private:
  // The handlers of an authenticated reducer's connection.
  ChannelHandlers OnReady(const std::shared_ptr<Channel>& channel);

  asio::io_context& io_;
  IntermediateStore* store_;
  std::shared_ptr<TlsContext> tls_;
  RpcServerOptions options_;
  TimerSource* timers_;
  std::shared_ptr<RpcServer> server_;
};

}  // namespace mr
