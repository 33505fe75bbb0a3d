// HttpApi: what the master's HTTP port serves (DESIGN §7), built from the Scheduler's tables:
//   /                 the dashboard (one self-contained page: inline CSS and JS, no external fetch)
//   /api/             the list of endpoints
//   /api/master       the master's addresses, start time, worker timeout
//   /api/jobs         every job: state, progress, times, counters, latest failed attempts
//   /api/jobs/ID      one job, with its tasks and each task's recent attempts (the timeline's data)
//   /api/workers      live workers (slots, running, last heartbeat, tasks run and failed), a page
//                     of them in id order (?limit=, default 1000, at most 10000; ?offset=), their
//                     total and slot counts, and the workers lost recently
//   /metrics          Prometheus text format 0.0.4
//   /healthz          "ok" while the process serves HTTP (liveness)
//   /readyz           200 "ready" once the journal is loaded and the RPC port accepts clients,
//                     503 before (readiness)
// Times are unix epoch milliseconds; every JSON answer carries the master's now_ms, so a browser
// computes ages and durations with the master's clock.
//
// Who may see what (DESIGN §11, HttpAccess): /healthz and /readyz answer everyone. A request with
// a credential (Authorization: Bearer TOKEN: the cluster token or a user's) sees everything, and a
// job's output preview when it owns the job or is an admin. Without one, a server bound to
// loopback answers what it always did but output previews, and only to a Host header that names
// loopback, an IP address or this machine (a web page cannot read it by DNS rebinding); a server
// bound elsewhere answers 401 (the dashboard page itself is served, and asks for a token).
//
// Threading: call from the master's io thread (it reads the Scheduler, which is single-threaded).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/credentials.h"
#include "master/http_server.h"
#include "master/scheduler.h"

namespace mr {

constexpr size_t kDefaultPageLimit = 1000;  // of /api/workers
constexpr size_t kMaxPageLimit = 10000;
constexpr size_t kMetricsWorkers = 1000;    // workers with their own series in /metrics

struct MasterInfo {
  // Addresses to connect to: a wildcard bind is shown as the loopback address (never 0.0.0.0);
  // the *_listen fields hold what was bound.
  std::string rpc_address;
  std::string http_address;
  std::string rpc_listen;
  std::string http_listen;
  bool ready = false;
  std::string data_dir;
  int64_t started_ms = 0;
  int64_t worker_timeout_ms = 0;
};

struct HttpAccess {
  bool loopback = true;  // the HTTP server is bound to a loopback address only
  // What a bearer token proves (kNone when wrong); nullptr: none is accepted.
  std::function<PeerCredential(std::string_view token)> check;
  // Names a Host header may give besides IP addresses and localhost (this machine's host name).
  std::vector<std::string> host_names;
};

class HttpApi {
 public:
  // now() returns the current time in epoch milliseconds (the clock the Scheduler is driven by).
  HttpApi(const Scheduler& scheduler, MasterInfo info, std::function<int64_t()> now)
      : scheduler_(scheduler), info_(std::move(info)), now_(std::move(now)) {}

  HttpResponse Handle(const HttpRequest& request) const;

  nlohmann::json MasterJson(int64_t now_ms) const;
  nlohmann::json JobsJson(int64_t now_ms) const;
  // NotFound for an unknown job. The output preview is there when `viewer` may see the job's output.
  Result<nlohmann::json> JobJson(uint64_t job_id, int64_t now_ms, const PeerCredential* viewer = nullptr) const;
  nlohmann::json WorkersJson(int64_t now_ms, size_t offset = 0, size_t limit = kDefaultPageLimit) const;
  std::string Metrics(int64_t now_ms) const;

  MasterInfo& info() { return info_; }
  HttpAccess& access() { return access_; }

 private:
  nlohmann::json JobSummary(const proto::JobStatus& s, int64_t now_ms) const;
  // Handle's answer once access is settled; `who` is the requester's credential (nullptr: none).
  HttpResponse Serve(const HttpRequest& req, int64_t now, const PeerCredential* who) const;

  const Scheduler& scheduler_;
  MasterInfo info_;
  HttpAccess access_;
  std::function<int64_t()> now_;
};

// Per phase ("map", "reduce"), over the done tasks: task time, records and bytes in and out per
// task ({min, median, max}, null when none is done), the straggler threshold (twice the median
// and half a second more), the stragglers (tasks with an attempt that ran, or runs, longer than it, even
// one a backup beat) and the slow workers (mean task time over 1.5 times the phase's).
nlohmann::json PhaseStatsJson(const std::vector<proto::TaskHistory>& tasks, int64_t now_ms);
// The first lines of a job output's parts, in part order: {path, parts, lines[, error]}.
nlohmann::json OutputPreviewJson(const std::string& output, size_t max_lines, size_t max_bytes);

// The dashboard page (master/dashboard.html, embedded at build time).
std::string_view DashboardHtml();

}  // namespace mr
