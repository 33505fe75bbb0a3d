#include "client/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/sync_client.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;
using json = nlohmann::json;
constexpr Millis kCallTimeout{10000};

void Fail(const std::string& message) { std::fprintf(stderr, "mr: %s\n", message.c_str()); }

Result<std::unique_ptr<SyncClient>> ConnectMaster(const ClientOptions& c) {
  auto client = SyncClient::Connect(c.master, proto::ROLE_CLIENT, Millis(5000));
  if (!client.ok()) {
    return Status::Unavailable(fmt::format("cannot reach the master at {}: {}", c.master.ToString(),
                                           client.status().message()));
  }
  return client;
}

// One request/response to the master; prints the error and sets *exit_code on failure.
Result<proto::Envelope> Ask(const ClientOptions& c, const proto::Envelope& req, int* exit_code) {
  auto client = ConnectMaster(c);
  if (!client.ok()) {
    Fail(client.status().message());
    *exit_code = kExitUnreachable;
    return client.status();
  }
  auto reply = (*client)->Call(req, kCallTimeout);
  if (!reply.ok()) {
    Fail(reply.status().message());
    *exit_code = reply.status().code() == Status::Code::kAborted ? kExitFailed : kExitUnreachable;
  }
  return reply;
}

Result<uint64_t> ParseJobId(const std::string& text) {
  std::string t = text.starts_with("job-") ? text.substr(4) : text;
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(fmt::format("bad job id '{}'", text));
  }
  return std::stoull(t);
}

json StatusJson(const proto::JobStatus& s) {
  json j;
  j["id"] = s.job_id();
  j["job"] = s.spec().job();
  j["state"] = JobStateName(s.state());
  j["maps"] = {{"done", s.maps_done()}, {"total", s.maps_total()}};
  j["reduces"] = {{"done", s.reduces_done()}, {"total", s.reduces_total()}};
  j["inputs"] = std::vector<std::string>(s.spec().inputs().begin(), s.spec().inputs().end());
  j["output"] = s.spec().output();
  j["input_bytes"] = s.input_bytes();
  j["error"] = s.error();
  j["submit_time_ms"] = s.submit_time_ms();
  j["start_time_ms"] = s.start_time_ms();
  j["end_time_ms"] = s.end_time_ms();
  json counters = json::object();
  for (auto& [k, v] : s.counters()) counters[k] = v;
  j["counters"] = counters;
  return j;
}

int64_t NowMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Elapsed(const proto::JobStatus& s) {
  if (s.start_time_ms() == 0) return "-";
  int64_t end = s.end_time_ms() ? s.end_time_ms() : NowMs();
  return FormatDuration(Millis(end - s.start_time_ms()));
}

bool Finished(proto::JobState s) {
  return s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED || s == proto::JOB_KILLED;
}

// Progress: a redrawn bar on a terminal, one line per change (at most one a second) otherwise.
class Progress {
 public:
  Progress() : tty_(::isatty(STDOUT_FILENO)) {}
  void Show(const proto::JobStatus& s) {
    double total = s.maps_total() + s.reduces_total();
    double done = s.maps_done() + s.reduces_done();
    double frac = total > 0 ? done / total : 0;
    int64_t elapsed_ms = s.start_time_ms() ? NowMs() - s.start_time_ms() : 0;
    std::string eta = "-";
    if (frac > 0.02 && frac < 1) eta = FormatDuration(Millis(static_cast<int64_t>(elapsed_ms * (1 - frac) / frac)));
    std::string text = fmt::format("map {}/{}  reduce {}/{}  {}  elapsed {}  eta {}", s.maps_done(),
                                   s.maps_total(), s.reduces_done(), s.reduces_total(),
                                   JobStateName(s.state()), FormatDuration(Millis(elapsed_ms)), eta);
    if (tty_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(frac * kWidth);
      std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
      std::printf("\r[%s] %3d%%  %s\x1b[K", bar.c_str(), static_cast<int>(frac * 100), text.c_str());
      std::fflush(stdout);
      drawn_ = true;
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (text.substr(0, text.find("elapsed")) == last_ && now - last_time_ < std::chrono::seconds(10)) return;
    if (now - last_time_ < std::chrono::seconds(1) && !Finished(s.state())) return;
    last_ = text.substr(0, text.find("elapsed"));
    last_time_ = now;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  void End() {
    if (tty_ && drawn_) std::printf("\n");
  }

 private:
  bool tty_;
  bool drawn_ = false;
  std::string last_;
  std::chrono::steady_clock::time_point last_time_{};
};

}  // namespace

std::string JobStateName(proto::JobState s) {
  switch (s) {
    case proto::JOB_QUEUED: return "queued";
    case proto::JOB_RUNNING: return "running";
    case proto::JOB_SUCCEEDED: return "succeeded";
    case proto::JOB_FAILED: return "failed";
    case proto::JOB_KILLED: return "killed";
    default: return "unknown";
  }
}

Result<proto::JobSpec> MakeJobSpec(const SubmitOptions& o) {
  proto::JobSpec spec;
  spec.set_job(o.job);
  if (o.inputs.empty()) return Status::InvalidArgument("--input is required");
  if (o.output.empty()) return Status::InvalidArgument("--output is required");
  for (auto& in : o.inputs) spec.add_inputs(std::filesystem::absolute(in).lexically_normal().string());
  spec.set_output(std::filesystem::absolute(o.output).lexically_normal().string());
  if (o.reducers == 0) return Status::InvalidArgument("--reducers must be at least 1");
  spec.set_reducers(o.reducers);
  if (!o.split_size.empty()) {
    auto size = ParseSize(o.split_size);
    if (!size.ok()) return Status::InvalidArgument("--split-size: " + size.status().message());
    spec.set_split_size(*size);
  }
  for (auto& kv : o.args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(fmt::format("--arg {}: want KEY=VALUE", kv));
    }
    (*spec.mutable_args())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  spec.set_overwrite(o.overwrite);
  return spec;
}

Result<uint64_t> SubmitJob(const ClientOptions& c, const proto::JobSpec& spec) {
  proto::Envelope req;
  *req.mutable_submit_job()->mutable_spec() = spec;
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return Status::Aborted(std::to_string(code));
  if (!reply->has_submit_reply()) {
    Fail("the master sent an unexpected reply");
    return Status::Aborted(std::to_string(kExitFailed));
  }
  return reply->submit_reply().job_id();
}

Result<proto::JobStatus> WaitForJob(const ClientOptions& c, uint64_t job_id,
                                    const std::atomic<bool>* interrupted) {
  Progress progress;
  std::unique_ptr<SyncClient> client;
  auto lost_since = std::chrono::steady_clock::now();
  constexpr auto kReconnectFor = std::chrono::seconds(120);
  while (true) {
    if (interrupted && interrupted->load()) {
      progress.End();
      return Status::Aborted("interrupted");
    }
    if (!client) {
      auto cl = ConnectMaster(c);
      if (!cl.ok()) {
        if (std::chrono::steady_clock::now() - lost_since > kReconnectFor) {
          progress.End();
          return cl.status();
        }
        std::this_thread::sleep_for(Millis(250));
        continue;
      }
      client = std::move(*cl);
    }
    proto::Envelope req;
    req.mutable_get_job()->set_job_id(job_id);
    auto reply = client->Call(req, kCallTimeout);
    if (!reply.ok()) {
      if (reply.status().code() == Status::Code::kAborted) {
        progress.End();
        return reply.status();
      }
      client.reset();  // the master may be restarting: keep trying for a while
      lost_since = std::chrono::steady_clock::now();
      continue;
    }
    const proto::JobStatus& s = reply->job_status().status();
    progress.Show(s);
    if (Finished(s.state())) {
      progress.End();
      return s;
    }
    std::this_thread::sleep_for(Millis(100));
  }
}

void PrintSummary(const proto::JobStatus& s, bool as_json) {
  if (as_json) {
    std::printf("%s\n", StatusJson(s).dump(2).c_str());
    return;
  }
  std::printf("job %lu %s in %s: %u maps, %u reduces, %s read\n", static_cast<unsigned long>(s.job_id()),
              JobStateName(s.state()).c_str(), Elapsed(s).c_str(), s.maps_total(), s.reduces_total(),
              FormatBytes(s.input_bytes()).c_str());
  if (!s.error().empty()) std::printf("error: %s\n", s.error().c_str());
  if (s.state() == proto::JOB_SUCCEEDED) std::printf("output: %s\n", s.spec().output().c_str());
  if (!s.counters().empty()) {
    std::map<std::string, int64_t> sorted(s.counters().begin(), s.counters().end());
    std::printf("counters:\n");
    for (auto& [k, v] : sorted) std::printf("  %-26s %ld\n", k.c_str(), static_cast<long>(v));
  }
}

int CmdSubmit(const ClientOptions& c, const SubmitOptions& o) {
  auto spec = MakeJobSpec(o);
  if (!spec.ok()) {
    Fail(spec.status().message());
    return kExitUsage;
  }
  auto id = SubmitJob(c, *spec);
  if (!id.ok()) return std::stoi(id.status().message());
  if (!o.wait) {
    if (c.json) std::printf("{\"id\": %lu}\n", static_cast<unsigned long>(*id));
    else std::printf("%lu\n", static_cast<unsigned long>(*id));
    return kExitOk;
  }
  if (!c.json) std::printf("submitted job %lu\n", static_cast<unsigned long>(*id));
  auto final_status = WaitForJob(c, *id, nullptr);
  if (!final_status.ok()) {
    Fail(final_status.status().message());
    return kExitUnreachable;
  }
  PrintSummary(*final_status, c.json);
  return final_status->state() == proto::JOB_SUCCEEDED ? kExitOk : kExitFailed;
}

int CmdStatus(const ClientOptions& c, const std::string& job) {
  auto id = ParseJobId(job);
  if (!id.ok()) {
    Fail(id.status().message());
    return kExitUsage;
  }
  proto::Envelope req;
  req.mutable_get_job()->set_job_id(*id);
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  const auto& s = reply->job_status().status();
  if (c.json) {
    std::printf("%s\n", StatusJson(s).dump(2).c_str());
    return kExitOk;
  }
  std::printf("job %lu (%s): %s\n", static_cast<unsigned long>(s.job_id()), s.spec().job().c_str(),
              JobStateName(s.state()).c_str());
  std::printf("  map     %u/%u\n  reduce  %u/%u\n  elapsed %s\n  output  %s\n", s.maps_done(),
              s.maps_total(), s.reduces_done(), s.reduces_total(), Elapsed(s).c_str(),
              s.spec().output().c_str());
  if (!s.error().empty()) std::printf("  error   %s\n", s.error().c_str());
  std::map<std::string, int64_t> sorted(s.counters().begin(), s.counters().end());
  if (!sorted.empty()) std::printf("counters:\n");
  for (auto& [k, v] : sorted) std::printf("  %-26s %ld\n", k.c_str(), static_cast<long>(v));
  return kExitOk;
}

int CmdJobs(const ClientOptions& c) {
  proto::Envelope req;
  req.mutable_list_jobs();
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  if (c.json) {
    json arr = json::array();
    for (auto& s : reply->job_list().jobs()) arr.push_back(StatusJson(s));
    std::printf("%s\n", arr.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-6s %-12s %-10s %-9s %-9s %-9s %s\n", "ID", "JOB", "STATE", "MAP", "REDUCE", "ELAPSED", "OUTPUT");
  for (auto& s : reply->job_list().jobs()) {
    std::printf("%-6lu %-12s %-10s %-9s %-9s %-9s %s\n", static_cast<unsigned long>(s.job_id()),
                s.spec().job().c_str(), JobStateName(s.state()).c_str(),
                fmt::format("{}/{}", s.maps_done(), s.maps_total()).c_str(),
                fmt::format("{}/{}", s.reduces_done(), s.reduces_total()).c_str(), Elapsed(s).c_str(),
                s.spec().output().c_str());
  }
  return kExitOk;
}

int CmdWorkers(const ClientOptions& c) {
  proto::Envelope req;
  req.mutable_list_workers();
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  if (c.json) {
    json arr = json::array();
    for (auto& w : reply->worker_list().workers()) {
      arr.push_back({{"id", w.worker_id()}, {"shuffle_address", w.shuffle_address()}, {"slots", w.slots()},
                     {"running", w.running()}, {"heartbeat_age_ms", w.heartbeat_age_ms()},
                     {"tasks_succeeded", w.tasks_succeeded()}, {"tasks_failed", w.tasks_failed()}});
    }
    std::printf("%s\n", arr.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-6s %-22s %-6s %-8s %-10s %-9s %s\n", "ID", "SHUFFLE", "SLOTS", "RUNNING", "HEARTBEAT",
              "TASKS OK", "FAILED");
  for (auto& w : reply->worker_list().workers()) {
    std::printf("%-6s %-22s %-6u %-8u %-10s %-9lu %lu\n", w.worker_id().c_str(), w.shuffle_address().c_str(),
                w.slots(), w.running(), FormatDuration(Millis(w.heartbeat_age_ms())).c_str(),
                static_cast<unsigned long>(w.tasks_succeeded()), static_cast<unsigned long>(w.tasks_failed()));
  }
  return kExitOk;
}

int CmdKill(const ClientOptions& c, const std::string& job) {
  auto id = ParseJobId(job);
  if (!id.ok()) {
    Fail(id.status().message());
    return kExitUsage;
  }
  proto::Envelope req;
  req.mutable_kill_job()->set_job_id(*id);
  int code = kExitFailed;
  auto reply = Ask(c, req, &code);
  if (!reply.ok()) return code;
  std::printf("job %lu killed\n", static_cast<unsigned long>(*id));
  return kExitOk;
}

}  // namespace mr
