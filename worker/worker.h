// Worker: one worker process (DESIGN §2, §5, §10). Locks its data dir and keeps a stable identity
// there (an id, and an incarnation counted up at every start). Registers with the master over one
// control connection with its identity, the shuffle address other hosts reach it by (--advertise,
// or its own address on the master connection when it listens on a wildcard) and the map outputs
// its store still holds; heartbeats every `heartbeat` with its free slots; runs up to `slots`
// task attempts at once on its own threads (a map attempt uses `threads` threads); reports each
// attempt's end (a report that cannot be delivered waits for the next registration); serves its
// map output to reducers from its ShuffleServer and drops a job's data when the master says it
// ended. If the master connection breaks (or stays unacknowledged for a few heartbeats), the worker
// reconnects with backoff and jitter and registers again, as the same worker.
//
// Worker is the process as a class, constructible in-process: the master connection runs on an
// io_context its caller runs, and its heartbeats and reconnect backoff come from a TimerSource (a
// test passes a ManualTimerSource and advances it). Its connections are TLS with the cluster
// credential (common/rpc_client.h, common/rpc_server.h). It enforces its own policy: without
// allow_user_code it never starts a command or loads a library, whatever it is sent; with it, it
// runs them only in task processes (worker/task_process.h), never in itself. RunWorker is
// the process: a Worker on its own io_context, blocking until SIGINT/SIGTERM.
//
// Threading: the master connection lives on the caller's io_context thread; the shuffle server on
// a second thread of the worker's own, with the steady clock (a slow or huge fetch never delays a
// heartbeat); tasks run on `slots` executor threads and post their reports back to the first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/defaults.h"
#include "common/rpc_server.h"
#include "common/status.h"
#include "common/timer_source.h"
#include "common/units.h"

namespace mr {

struct WorkerOptions {
  HostPort master{kDefaultHost, kDefaultRpcPort};
  std::string data_dir;
  HostPort listen{"127.0.0.1", 0};
  // The host other machines reach this worker's shuffle server by; "" = the listen host, or when
  // that is a wildcard, this host's address on its connection to the master.
  std::string advertise;
  int slots = DefaultWorkerSlots();
  int threads = 1;
  std::chrono::milliseconds heartbeat{1000};
  uint64_t map_buffer_bytes = 256ull << 20;
  // The most map outputs a reduce attempt merges at once (ReduceOptions::merge_factor; 0 = from the
  // open-file limit).
  int merge_factor = 0;
  // The cluster credential (common/tls.h), for the master connection, the shuffle server and
  // fetches. nullptr: a fresh random token (tests of one process only).
  std::shared_ptr<TlsContext> tls;
  // Its token was a master's local one: the shuffle server may only listen on loopback.
  bool local_only = false;
  // Runs plugin and streaming tasks (`mr worker --allow-user-code`); without it refuses them.
  bool allow_user_code = false;
  // User code runs in task processes (worker/task_process.h): this program (`PROGRAM
  // task-process`; "" = this executable), with these limits unless a job sets its own
  // (task_memory 0 = DefaultTaskMemory(slots)).
  std::string task_program;
  uint64_t task_memory = 0;
  std::chrono::milliseconds task_timeout{std::chrono::minutes(10)};
  // Connection limits and timeouts of the shuffle server.
  RpcServerOptions rpc;
  // The name the master shows this worker by; "" = its shuffle address (host:port).
  std::string name;
};

class Worker {
 public:
  // io: the context of the master connection (the caller runs it; it outlives the worker).
  // timers: not owned, outlive the worker; nullptr = the io_context's steady timers.
  Worker(asio::io_context& io, WorkerOptions options, TimerSource* timers = nullptr);
  // Stops, then waits for running attempts to end (see Join).
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Locks data_dir (counting up the incarnation), opens the intermediate store, starts the shuffle
  // server and the executors, and starts connecting to the master (on io). Returns at once.
  // Call once.
  [[nodiscard]] Status Start();
  // On io's thread: closes the master connection and stops the shuffle server; no more
  // heartbeats, reconnects or reports. Idempotent.
  void Stop();
  // After Stop (from any thread; io need not run): cancels the running attempts, waits up to
  // `grace` for them to end and joins the worker's threads. False when an attempt did not stop
  // in time (stuck in user code or a hung disk): its threads are left behind, and the process
  // should exit. Idempotent.
  bool Join(std::chrono::milliseconds grace);
  // The shuffle server's bound address (after a successful Start).
  HostPort shuffle_address() const;
  // The name the master gave this worker ("" until registered). io's thread only.
  const std::string& worker_id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The worker process: a Worker on its own io_context until SIGINT/SIGTERM.
Status RunWorker(const WorkerOptions& options);

}  // namespace mr
