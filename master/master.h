// The master process (DESIGN §2): serves clients and workers on one TCP port, keeps the Scheduler's
// tables, journals job state in RocksDB under data_dir, declares workers dead after
// worker_timeout without a heartbeat, serves the dashboard, JSON API and metrics on the HTTP port
// (master/http_api.h; read-only), and writes the addresses it bound to data_dir/ADDRESS, one per
// line, "rpc HOST:PORT" first and then "http HOST:PORT" (so a master started on port 0 can be
// found).
//
// Master is the process as a class, constructible in-process: it runs on an io_context its caller
// runs, and takes its time from a TimerSource (the sweep that declares silent workers dead and
// launches backups, the hello timeout, and through an EpochClock every "now" the Scheduler sees,
// so heartbeat ages are on a steady clock); a test passes a ManualTimerSource and advances it.
// Client and worker connections reach it through an RpcServer (common/rpc_server.h: TLS and the
// hello), so it only ever handles authenticated channels, each with the credential its peer
// proved: workers hold the cluster credential; a client is a user (the owner of the jobs it
// submits, who alone may kill them or read their logs) or the cluster's admin. A tokenless master
// (local_token) serves loopback only and leaves its generated token where the same user's `mr`
// finds it. RunMaster is the process: a Master on its own io_context, blocking until
// SIGINT/SIGTERM; SIGHUP reloads the users file and the pools file.
// Threading: one io_context thread owns all state; the HTTP server runs on it too.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/defaults.h"
#include "common/rpc_server.h"
#include "master/http_server.h"
#include "common/status.h"
#include "common/timer_source.h"
#include "common/units.h"

namespace mr {

struct MasterOptions {
  HostPort listen{kDefaultHost, kDefaultRpcPort};
  HostPort http{kDefaultHost, kDefaultHttpPort};
  std::string data_dir;
  std::chrono::milliseconds worker_timeout{10000};
  // How connections are secured and who is accepted (common/tls.h): the cluster credential and
  // the users' keys. nullptr: a random cluster token of its own (tests that need no other peer).
  std::shared_ptr<TlsContext> tls;
  // A master started without a token: its token was made for it, it binds loopback only, and it
  // leaves the token for this user's `mr` in local_token_dir (common/credentials.h LocalTokenPath)
  // while it runs.
  bool local_token = false;
  std::string local_token_dir;
  // Accept streaming (--mapper) and plugin (--job-lib) jobs; built-in jobs always run. A restarted
  // master without it fails the journaled ones instead of resuming them.
  bool allow_user_code = false;
  // Where jobs may read and write (--allow-input, --allow-output; empty: anywhere), checked at
  // submission and again for journaled jobs after a restart.
  std::vector<std::string> allow_input;
  std::vector<std::string> allow_output;
  // HTTPS for the dashboard and API (--http-cert, --http-key); plain HTTP without.
  std::string http_cert, http_key;
  // Connection limits and timeouts of the RPC port and of the HTTP port (without its certificate).
  RpcServerOptions rpc;
  HttpServerOptions http_limits;
  // Finished jobs kept, with their tasks, attempts and logs: at most history_jobs, and none older
  // than history_age (0: no age limit).
  size_t history_jobs = 200;
  std::chrono::milliseconds history_age{7LL * 24 * 3600 * 1000};
  // The pools file (--pools; master/pools.h), read at Start and again by ReloadPools; empty: every
  // pool has weight 1, no minimum and no job limit.
  std::string pools_file;
  // A pool kept below its due share this long preempts (master/scheduler_preempt.cc); 0: never.
  std::chrono::milliseconds preempt_after{30000};
};

class Master {
 public:
  // io: the context the master runs on (the caller runs it; it outlives the master). timers: not
  // owned, outlive the master; nullptr = the io_context's steady timers and the system clock.
  Master(asio::io_context& io, MasterOptions options, TimerSource* timers = nullptr);
  ~Master();
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  // Locks data_dir, opens the journal and resumes its unfinished jobs, binds the RPC and HTTP
  // ports, writes data_dir/ADDRESS and starts serving (on io). Returns at once. Call once.
  [[nodiscard]] Status Start();
  // Stops accepting and closes every connection; later callbacks do nothing. Idempotent.
  void Stop();
  // Reads the pools file again (SIGHUP); on an error the pools stay as they were. Call on io's
  // thread.
  [[nodiscard]] Status ReloadPools();
  // The bound addresses (after a successful Start).
  HostPort rpc_address() const;
  HostPort http_address() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The master process: a Master on its own io_context until SIGINT/SIGTERM.
Status RunMaster(const MasterOptions& options);

}  // namespace mr
