#include "master/http_api.h"

#include "common/address.h"
#include "common/defaults.h"

#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/address.h"
#include "common/job_json.h"
#include "common/output_layout.h"
#include "common/job_state.h"
#include "common/units.h"

namespace mr {
namespace {

using json = nlohmann::json;

HttpResponse Json(const json& j, unsigned status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  // Invalid UTF-8 in user-supplied text (paths, errors) is replaced rather than failing the page.
  r.body = JsonText(j) + "\n";
  return r;
}

// Prometheus text format 0.0.4.
class MetricsWriter {
 public:
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(const std::string& name, double value,
              std::initializer_list<std::pair<const char*, std::string>> labels = {}) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (auto& [k, v] : labels) {
        out_ += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, Escape(v));
        first = false;
      }
      out_ += '}';
    }
    out_ += ' ';
    if (value == static_cast<double>(static_cast<int64_t>(value))) out_ += std::to_string(static_cast<int64_t>(value));
    else out_ += fmt::format("{}", value);
    out_ += '\n';
  }
  // A family with one unlabelled sample.
  void One(const std::string& name, const char* type, const std::string& help, double value) {
    Family(name, type, help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  static std::string Escape(const std::string& v) {
    std::string e;
    for (char c : v) {
      if (c == '\\') e += "\\\\";
      else if (c == '"') e += "\\\"";
      else if (c == '\n') e += "\\n";
      else e += c;
    }
    return e;
  }
  std::string out_;
};

json TaskJson(const proto::TaskHistory& t) {
  json j = {{"kind", TaskKindName(t.kind())},
            {"index", t.index()},
            {"state", t.state()},
            {"attempts", t.attempts()},
            {"failures", t.failures()},
            {"backups", t.backups()},
            {"worker", t.worker()},
            {"start_ms", t.start_ms()},
            {"duration_ms", t.duration_ms()},
            {"last_error", t.last_error()}};
  if (t.kind() == proto::TASK_MAP) {
    j["split"] = {{"path", t.split().path()}, {"offset", t.split().offset()}, {"length", t.split().length()}};
  }
  json history = json::array();
  for (const proto::AttemptRecord& a : t.history()) {
    history.push_back({{"attempt", a.attempt()},
                       {"worker", a.worker()},
                       {"start_ms", a.start_ms()},
                       {"end_ms", a.end_ms()},
                       {"outcome", a.outcome()},
                       {"backup", a.backup()},
                       {"error", a.error()},
                       {"records_in", a.records_in()},
                       {"records_out", a.records_out()},
                       {"bytes_in", a.bytes_in()},
                       {"bytes_out", a.bytes_out()}});
  }
  j["history"] = std::move(history);
  return j;
}

// The attempt that succeeded (the newest one), or null.
const proto::AttemptRecord* Succeeded(const proto::TaskHistory& t) {
  for (auto it = t.history().rbegin(); it != t.history().rend(); ++it) {
    if (OutcomeOf(*it) == AttemptOutcome::kSucceeded) return &*it;
  }
  return nullptr;
}

json Spread(std::vector<int64_t> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  return {{"min", v.front()}, {"median", v[v.size() / 2]}, {"max", v.back()}};
}

}  // namespace

json PhaseStatsJson(const std::vector<proto::TaskHistory>& tasks, int64_t now_ms) {
  json phases = json::object();
  for (proto::TaskKind kind : {proto::TASK_MAP, proto::TASK_REDUCE}) {
    std::vector<int64_t> ms, rin, rout, bin, bout;
    std::map<std::string, std::pair<int64_t, int64_t>> per_worker;  // worker -> (tasks, total ms)
    for (const proto::TaskHistory& t : tasks) {
      if (t.kind() != kind || t.state() != "done") continue;
      ms.push_back(t.duration_ms());
      per_worker[t.worker()].first++;
      per_worker[t.worker()].second += t.duration_ms();
      if (const proto::AttemptRecord* a = Succeeded(t)) {
        rin.push_back(a->records_in());
        rout.push_back(a->records_out());
        bin.push_back(a->bytes_in());
        bout.push_back(a->bytes_out());
      }
    }
    std::vector<int64_t> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    int64_t median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    // A straggler takes (or has taken so far) more than twice the median and half a second longer:
    // below the scheduler's backup threshold (max(kMinBackupMs, 3 x median)), so an attempt that
    // got a backup is always one.
    int64_t straggler_ms = std::max<int64_t>(2 * median, median + 500);
    json stragglers = json::array();
    if (!sorted.empty()) {
      for (const proto::TaskHistory& t : tasks) {
        if (t.kind() != kind) continue;
        // The task's slowest attempt that ran to its end or still runs (one a backup beat counts).
        const proto::AttemptRecord* slowest = nullptr;
        int64_t slowest_ms = straggler_ms;
        for (const proto::AttemptRecord& a : t.history()) {
          if (OutcomeOf(a) != AttemptOutcome::kRunning && OutcomeOf(a) != AttemptOutcome::kSucceeded &&
              OutcomeOf(a) != AttemptOutcome::kSuperseded) {
            continue;
          }
          int64_t d = (a.end_ms() ? a.end_ms() : now_ms) - a.start_ms();
          if (d > slowest_ms) {
            slowest = &a;
            slowest_ms = d;
          }
        }
        if (slowest != nullptr) {
          stragglers.push_back({{"index", t.index()}, {"attempt", slowest->attempt()}, {"worker", slowest->worker()},
                                {"duration_ms", slowest_ms}, {"outcome", slowest->outcome()}});
        }
      }
    }
    // A slow worker's mean task time is over 1.5 times the phase's, among two or more workers.
    json slow = json::array();
    if (per_worker.size() >= 2 && !ms.empty()) {
      double mean = 0;
      for (int64_t d : ms) mean += d;
      mean /= ms.size();
      for (auto& [w, tn] : per_worker) {
        double wm = static_cast<double>(tn.second) / tn.first;
        if (wm > 1.5 * mean && wm - mean > 500) {
          slow.push_back({{"worker", w}, {"tasks", tn.first}, {"mean_ms", static_cast<int64_t>(wm)}});
        }
      }
    }
    phases[TaskKindName(kind)] = {{"tasks_done", ms.size()},
                                  {"duration_ms", Spread(ms)},
                                  {"records_in", Spread(rin)},
                                  {"records_out", Spread(rout)},
                                  {"bytes_in", Spread(bin)},
                                  {"bytes_out", Spread(bout)},
                                  {"straggler_ms", sorted.empty() ? 0 : straggler_ms},
                                  {"stragglers", std::move(stragglers)},
                                  {"slow_workers", std::move(slow)}};
  }
  return phases;
}

json OutputPreviewJson(const std::string& output, size_t max_lines, size_t max_bytes) {
  json preview = {{"path", output}, {"lines", json::array()}};
  auto parts = ListOutputParts(output, /*partial=*/true);
  auto lines = ReadOutputHead(output, max_lines, max_bytes, 512);
  if (!parts.ok() || !lines.ok()) {
    preview["error"] = (parts.ok() ? lines.status() : parts.status()).message();
    return preview;
  }
  preview["parts"] = parts->size();
  for (std::string& line : *lines) preview["lines"].push_back(std::move(line));
  return preview;
}

namespace {

// ?limit=N&offset=M of a list (other parameters are ignored): limit 1..kMaxPageLimit, default
// kDefaultPageLimit.
Result<std::pair<size_t, size_t>> ParsePage(std::string_view query) {
  size_t offset = 0, limit = kDefaultPageLimit;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = kv.find('=');
    std::string_view key = kv.substr(0, eq), value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    if (key != "limit" && key != "offset") continue;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      return Status::InvalidArgument(fmt::format("{} must be a number, not '{}'", key, value));
    }
    if (key == "offset") offset = n;
    else if (n < 1 || n > kMaxPageLimit) {
      return Status::InvalidArgument(fmt::format("limit must be 1 to {}, not {}", kMaxPageLimit, n));
    } else {
      limit = n;
    }
  }
  return std::pair{offset, limit};
}

}  // namespace

json HttpApi::JobSummary(const proto::JobStatus& s, int64_t now_ms) const {
  json j = JobStatusJson(s, now_ms);
  uint64_t maps_running = 0, reduces_running = 0;
  if (!Finished(s.state())) {
    for (auto& c : scheduler_.TaskCounts(s.job_id())) {
      if (c.state == "running") (c.kind == proto::TASK_MAP ? maps_running : reduces_running) = c.count;
    }
  }
  j["maps"]["running"] = maps_running;
  j["reduces"]["running"] = reduces_running;
  return j;
}

json HttpApi::MasterJson(int64_t now_ms) const {
  return {{"rpc_address", info_.rpc_address},
          {"http_address", info_.http_address},
          {"rpc_listen", info_.rpc_listen},
          {"http_listen", info_.http_listen},
          {"data_dir", info_.data_dir},
          {"pid", static_cast<int64_t>(::getpid())},
          {"started_ms", info_.started_ms},
          {"worker_timeout_ms", info_.worker_timeout_ms},
          {"now_ms", now_ms}};
}

json HttpApi::JobsJson(int64_t now_ms) const {
  json jobs = json::array();
  for (const proto::JobStatus& s : scheduler_.AllJobs()) jobs.push_back(JobSummary(s, now_ms));
  return {{"now_ms", now_ms}, {"jobs", std::move(jobs)}};
}

Result<json> HttpApi::JobJson(uint64_t job_id, int64_t now_ms, const PeerCredential* viewer) const {
  auto status = scheduler_.JobStatus(job_id);
  if (!status.ok()) return status.status();
  auto tasks = scheduler_.Tasks(job_id, now_ms);
  if (!tasks.ok()) return tasks.status();
  json j = JobSummary(*status, now_ms);
  json arr = json::array();
  for (const proto::TaskHistory& t : *tasks) arr.push_back(TaskJson(t));
  j["tasks"] = std::move(arr);
  j["phases"] = PhaseStatsJson(*tasks, now_ms);
  if (status->state() == proto::JOB_SUCCEEDED && !status->spec().output().empty()) {
    if (viewer != nullptr && viewer->MayActOn(status->spec().owner())) {
      j["output_preview"] = OutputPreviewJson(status->spec().output(), 10, 4096);
    } else {
      j["output_preview_hidden"] =
          fmt::format("a job's output is shown to its owner ({}) or an admin: give the dashboard their token",
                      status->spec().owner().empty() ? "unknown" : status->spec().owner());
    }
  }
  j["now_ms"] = now_ms;
  return j;
}

json HttpApi::WorkersJson(int64_t now_ms, size_t offset, size_t limit) const {
  json workers = json::array();
  for (const proto::WorkerInfo& w : scheduler_.Workers(now_ms, offset, limit)) {
    workers.push_back({{"id", w.worker_id()},
                       {"host", w.host()},
                       {"pid", w.pid()},
                       {"shuffle_address", w.shuffle_address()},
                       {"slots", w.slots()},
                       {"running", w.running()},
                       {"heartbeat_age_ms", w.heartbeat_age_ms()},
                       {"last_heartbeat_ms", now_ms - w.heartbeat_age_ms()},
                       {"registered_ms", scheduler_.WorkerRegisteredMs(w.worker_id())},
                       {"tasks_succeeded", w.tasks_succeeded()},
                       {"tasks_failed", w.tasks_failed()}});
  }
  json lost = json::array();
  for (const LostWorker& w : scheduler_.LostWorkers()) {
    lost.push_back({{"id", w.id},
                    {"host", w.host},
                    {"pid", w.pid},
                    {"registered_ms", w.registered_ms},
                    {"shuffle_address", w.address},
                    {"reason", w.reason},
                    {"lost_ms", w.lost_ms},
                    {"tasks_succeeded", w.tasks_succeeded},
                    {"tasks_failed", w.tasks_failed}});
  }
  return {{"now_ms", now_ms},
          {"total", scheduler_.WorkerCount()},
          {"offset", offset},
          {"limit", limit},
          {"slots", scheduler_.TotalSlots()},
          {"slots_busy", scheduler_.BusySlots()},
          {"workers", std::move(workers)},
          {"lost", std::move(lost)}};
}

std::string HttpApi::Metrics(int64_t now_ms) const {
  MetricsWriter m;
  const SchedulerTotals& t = scheduler_.totals();
  m.One("mr_up", "gauge", "1 while the master is serving.", 1);
  m.One("mr_master_start_time_seconds", "gauge", "When the master started, in seconds since the epoch.",
        info_.started_ms / 1000.0);

  std::vector<proto::JobStatus> jobs = scheduler_.AllJobs();
  m.Family("mr_jobs", "gauge", "Jobs known to the master, by state.");
  for (proto::JobState st : {proto::JOB_QUEUED, proto::JOB_RUNNING, proto::JOB_SUCCEEDED, proto::JOB_FAILED,
                             proto::JOB_KILLED}) {
    size_t n = std::count_if(jobs.begin(), jobs.end(), [&](const proto::JobStatus& s) { return s.state() == st; });
    m.Sample("mr_jobs", static_cast<double>(n), {{"state", JobStateName(st)}});
  }
  m.One("mr_jobs_submitted_total", "counter", "Jobs submitted since the master started.", t.jobs_submitted);
  m.One("mr_jobs_finished_total", "counter", "Jobs that ended (succeeded, failed or killed) since the master started.",
        t.jobs_finished);
  m.Family("mr_job_progress_ratio", "gauge", "Fraction of the tasks of each unfinished job that are done.");
  for (const proto::JobStatus& s : jobs) {
    if (Finished(s.state())) continue;
    uint32_t total = s.maps_total() + s.reduces_total();
    m.Sample("mr_job_progress_ratio", total ? static_cast<double>(s.maps_done() + s.reduces_done()) / total : 0.0,
             {{"job", std::to_string(s.job_id())}, {"name", s.spec().job()}});
  }

  m.Family("mr_tasks", "gauge", "Tasks of unfinished jobs, by kind and state.");
  for (auto& c : scheduler_.TaskCounts()) {
    m.Sample("mr_tasks", static_cast<double>(c.count), {{"kind", TaskKindName(c.kind)}, {"state", c.state}});
  }

  m.Family("mr_pool_running_slots", "gauge", "Slots the attempts of a pool's jobs hold (pools with unfinished jobs).");
  std::vector<FairShare::PoolView> pools = scheduler_.Pools();
  for (auto& p : pools) m.Sample("mr_pool_running_slots", p.running_slots, {{"pool", p.name}});
  m.Family("mr_pool_fair_share", "gauge", "A pool's fair share of the slots, over what its jobs could use now.");
  for (auto& p : pools) m.Sample("mr_pool_fair_share", p.fair_share, {{"pool", p.name}});
  m.Family("mr_pool_min_share", "gauge", "A pool's minimum share (pools file).");
  for (auto& p : pools) m.Sample("mr_pool_min_share", p.config.min_share, {{"pool", p.name}});
  m.Family("mr_pool_preemptions_total", "counter", "Attempts preempted to give a pool slots, by that pool.");
  for (auto& [pool, n] : t.pool_preemptions) m.Sample("mr_pool_preemptions_total", n, {{"pool", pool}});
  m.Family("mr_pool_jobs", "gauge", "A pool's unfinished jobs, by state.");
  for (auto& p : pools) {
    m.Sample("mr_pool_jobs", p.running_jobs, {{"pool", p.name}, {"state", "running"}});
    m.Sample("mr_pool_jobs", p.jobs - p.running_jobs, {{"pool", p.name}, {"state", "queued"}});
  }

  // Per-worker series for the first kMetricsWorkers workers only: a scrape stays small and quick
  // with thousands of workers (the totals and the oldest heartbeat cover them all).
  std::vector<proto::WorkerInfo> workers = scheduler_.Workers(now_ms, 0, kMetricsWorkers);
  m.One("mr_workers_alive", "gauge", "Workers registered and heartbeating.",
        static_cast<double>(scheduler_.WorkerCount()));
  m.One("mr_slots", "gauge", "Task slots of the live workers.", static_cast<double>(scheduler_.TotalSlots()));
  m.One("mr_slots_busy", "gauge", "Task slots running an attempt.", static_cast<double>(scheduler_.BusySlots()));
  m.One("mr_worker_heartbeat_age_max_seconds", "gauge", "Seconds since the oldest last heartbeat of a live worker.",
        scheduler_.WorkerCount() ? (now_ms - scheduler_.OldestHeartbeatMs()) / 1000.0 : 0.0);
  m.One("mr_workers_registered_total", "counter", "Worker registrations since the master started.",
        t.workers_registered);
  m.One("mr_workers_lost_total", "counter", "Workers declared dead (no heartbeat, or connection lost).", t.workers_lost);
  m.Family("mr_worker_heartbeat_age_seconds", "gauge", "Seconds since each live worker's last heartbeat.");
  for (auto& w : workers) {
    m.Sample("mr_worker_heartbeat_age_seconds", w.heartbeat_age_ms() / 1000.0, {{"worker", w.worker_id()}});
  }
  m.Family("mr_worker_slots", "gauge", "Task slots of each live worker.");
  for (auto& w : workers) m.Sample("mr_worker_slots", w.slots(), {{"worker", w.worker_id()}});
  m.Family("mr_worker_running_tasks", "gauge", "Attempts running on each live worker.");
  for (auto& w : workers) m.Sample("mr_worker_running_tasks", w.running(), {{"worker", w.worker_id()}});
  m.Family("mr_worker_tasks_succeeded_total", "counter", "Attempts each live worker completed successfully.");
  for (auto& w : workers) {
    m.Sample("mr_worker_tasks_succeeded_total", static_cast<double>(w.tasks_succeeded()), {{"worker", w.worker_id()}});
  }
  m.Family("mr_worker_tasks_failed_total", "counter", "Attempts that failed on each live worker.");
  for (auto& w : workers) {
    m.Sample("mr_worker_tasks_failed_total", static_cast<double>(w.tasks_failed()), {{"worker", w.worker_id()}});
  }

  m.One("mr_attempts_launched_total", "counter", "Task attempts started, backups included.", t.attempts_launched);
  m.One("mr_attempts_succeeded_total", "counter", "Task attempts that succeeded (and were committed).",
        t.attempts_succeeded);
  m.One("mr_attempts_failed_total", "counter", "Task attempts that failed.", t.attempts_failed);
  m.One("mr_attempts_lost_total", "counter", "Task attempts lost with their worker.", t.attempts_lost);
  m.One("mr_attempts_backup_total", "counter", "Backup attempts started for stragglers.", t.attempts_backup);
  m.One("mr_attempts_preempted_total", "counter", "Attempts cancelled to give their slots to a pool below its share.",
        t.attempts_preempted);
  m.One("mr_maps_rerun_total", "counter", "Finished map tasks whose output was lost, run again.", t.maps_rerun);

  auto counter = [&](const char* name) -> double {
    auto it = t.counters.find(name);
    return it == t.counters.end() ? 0.0 : static_cast<double>(it->second);
  };
  m.One("mr_shuffle_bytes_total", "counter", "Bytes fetched by reducers (successful reduce attempts).",
        counter(counter::kShuffleBytes));
  m.One("mr_map_input_bytes_total", "counter", "Input bytes read by successful map attempts.",
        counter(counter::kMapInputBytes));
  m.One("mr_map_input_records_total", "counter", "Input records read by successful map attempts.",
        counter(counter::kMapInputRecords));
  m.One("mr_map_output_records_total", "counter", "Records emitted by successful map attempts.",
        counter(counter::kMapOutputRecords));
  m.One("mr_reduce_output_records_total", "counter", "Records written by successful reduce attempts.",
        counter(counter::kReduceOutputRecords));
  m.Family("mr_counter_total", "counter", "Every job counter (built-in and user), summed over successful attempts.");
  for (auto& [name, v] : t.counters) m.Sample("mr_counter_total", static_cast<double>(v), {{"counter", name}});
  return m.Take();
}

namespace {

// The host part of a Host header value ("127.0.0.1:7071" -> "127.0.0.1", "[::1]:80" -> "::1").
std::string HostOfHeader(std::string_view v) {
  if (v.starts_with('[')) {
    size_t end = v.find(']');
    return std::string(end == std::string_view::npos ? v : v.substr(1, end - 1));
  }
  size_t colon = v.rfind(':');
  if (colon != std::string_view::npos && v.find(':') == colon) return std::string(v.substr(0, colon));
  return std::string(v);
}

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

HttpResponse HttpApi::Handle(const HttpRequest& req) const {
  int64_t now = now_();
  const std::string& p = req.path;
  if (p != "/healthz" && p != "/readyz") {
    PeerCredential who;
    if (req.authorization.starts_with("Bearer ") && access_.check) who = access_.check(req.authorization.substr(7));
    if (who.kind == PeerCredential::Kind::kNone) {
      if (!req.authorization.empty()) {
        HttpResponse r = JsonError(401, "the token is not one this master accepts");
        r.headers["WWW-Authenticate"] = "Bearer realm=\"mr\"";
        return r;
      }
      const std::string host = HostOfHeader(req.host);
      if (!host.empty() && !IsLoopbackHost(host) && !IsIpAddress(host) &&
          std::find(access_.host_names.begin(), access_.host_names.end(), host) == access_.host_names.end()) {
        return JsonError(403, fmt::format("Host '{}' refused: give the dashboard a token, or use an IP address",
                                          req.host));
      }
      if (!access_.loopback && p != "/" && p != "/index.html") {
        HttpResponse r = JsonError(401, "this master's HTTP API needs a token (Authorization: Bearer TOKEN)");
        r.headers["WWW-Authenticate"] = "Bearer realm=\"mr\"";
        return r;
      }
    }
    return Serve(req, now, who.kind == PeerCredential::Kind::kNone ? nullptr : &who);
  }
  return Serve(req, now, nullptr);
}

HttpResponse HttpApi::Serve(const HttpRequest& req, int64_t now, const PeerCredential* who) const {
  const std::string& p = req.path;
  if (p == "/" || p == "/index.html") {
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(DashboardHtml());
    // Everything the page needs is inline; it may only talk back to this server.
    r.headers["Content-Security-Policy"] =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    r.headers["Referrer-Policy"] = "no-referrer";
    return r;
  }
  if (p == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = Metrics(now);
    return r;
  }
  if (p == "/healthz") {
    HttpResponse r;
    r.body = "ok\n";
    return r;
  }
  if (p == "/readyz") {
    HttpResponse r;
    if (!info_.ready) {
      r.status = 503;
      r.body = "not ready: the master is still starting\n";
    } else {
      r.body = "ready\n";
    }
    return r;
  }
  if (p == "/api" || p == "/api/") {
    return Json({{"endpoints", {"/api/master", "/api/jobs", "/api/jobs/ID", "/api/workers", "/metrics", "/healthz", "/readyz"}}});
  }
  if (p == "/api/master") return Json(MasterJson(now));
  if (p == "/api/jobs" || p == "/api/jobs/") return Json(JobsJson(now));
  if (p == "/api/workers" || p == "/api/workers/") {
    auto page = ParsePage(req.query);
    if (!page.ok()) return JsonError(400, page.status().message());
    return Json(WorkersJson(now, page->first, page->second));
  }
  if (p.starts_with("/api/jobs/")) {
    std::string_view id = std::string_view(p).substr(10);
    if (id.ends_with('/')) id.remove_suffix(1);
    auto job_id = ParseJobId(id);
    if (!job_id.ok()) return JsonError(404, "no job " + p.substr(10));
    auto j = JobJson(*job_id, now, who);
    if (!j.ok()) return JsonError(404, j.status().message());
    return Json(*j);
  }
  if (p.starts_with("/api/")) return JsonError(404, "no such endpoint: " + p);
  HttpResponse r;
  r.status = 404;
  r.body = "not found; the dashboard is at /\n";
  return r;
}

}  // namespace mr
