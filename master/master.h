// The master process (DESIGN §2): serves clients and workers on one TCP port, keeps the Scheduler's
// tables, journals job state in RocksDB under data_dir, declares workers dead after
// worker_timeout without a heartbeat, serves the dashboard, JSON API and metrics on the HTTP port
// (master/http_api.h; read-only), and writes the addresses it bound to data_dir/ADDRESS, one per
// line, "rpc HOST:PORT" first and then "http HOST:PORT" (so a master started on port 0 can be
// found). Run() blocks until SIGINT/SIGTERM.
// Threading: one io_context thread owns all state; the HTTP server runs on it too.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "common/units.h"

namespace mr {

struct MasterOptions {
  HostPort listen{"127.0.0.1", 7070};
  HostPort http{"127.0.0.1", 7071};
  std::string data_dir;
  std::chrono::milliseconds worker_timeout{10000};
  // The cluster token (DESIGN §6); "" = none, and then only loopback addresses may be bound.
  std::string token;
  // Accept streaming (--mapper) and plugin (--job-lib) jobs; built-in jobs always run.
  bool allow_user_code = false;
  // Finished jobs kept, with their tasks, attempts and logs: at most history_jobs, and none older
  // than history_age (0: no age limit).
  size_t history_jobs = 200;
  std::chrono::milliseconds history_age{7LL * 24 * 3600 * 1000};
};

Status RunMaster(const MasterOptions& options);

}  // namespace mr
