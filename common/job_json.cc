#include "common/job_json.h"

#include "common/defaults.h"

#include <map>
#include <string>
#include <vector>

#include "common/block.h"
#include "common/job_state.h"

namespace mr {

using json = nlohmann::json;

namespace {

json AttemptFailureJson(const proto::AttemptFailure& f) {
  return {{"kind", TaskKindName(f.kind())}, {"index", f.index()}, {"attempt", f.attempt()}, {"worker", f.worker()},
          {"error", f.error()},         {"time_ms", f.time_ms()}, {"lost", f.lost()}};
}

}  // namespace

json JobStatusJson(const proto::JobStatus& s, int64_t now_ms) {
  json j;
  j["id"] = s.job_id();
  j["job"] = s.spec().job();
  j["state"] = JobStateName(s.state());
  j["maps"] = {{"done", s.maps_done()}, {"total", s.maps_total()}};
  j["reduces"] = {{"done", s.reduces_done()}, {"total", s.reduces_total()}};
  uint32_t total = s.maps_total() + s.reduces_total();
  j["progress"] = total ? static_cast<double>(s.maps_done() + s.reduces_done()) / total
                        : (s.state() == proto::JOB_SUCCEEDED ? 1.0 : 0.0);
  j["inputs"] = std::vector<std::string>(s.spec().inputs().begin(), s.spec().inputs().end());
  j["output"] = s.spec().output();
  j["owner"] = s.spec().owner();
  j["pool"] = s.spec().pool();
  j["priority"] = PriorityName(s.spec().priority());
  j["max_slots"] = s.spec().max_slots();
  // A plugin's or streaming job's limits on its task processes (0: the workers' defaults).
  if (s.spec().task_memory() > 0) j["task_memory"] = s.spec().task_memory();
  if (s.spec().task_timeout_ms() > 0) j["task_timeout_ms"] = s.spec().task_timeout_ms();
  if (s.spec().skip_bad_records() > 0) j["skip_bad_records"] = s.spec().skip_bad_records();
  j["reducers"] = s.spec().reducers();
  if (s.spec().map_only()) j["map_only"] = true;
  else j["intermediate_codec"] = CodecName(CodecOf(s.spec().intermediate_codec()));
  // A pipeline's step (mr submit --then): the jobs before and after it, the steps left.
  if (s.previous_job_id() != 0) j["previous_job"] = s.previous_job_id();
  if (s.next_job_id() != 0) j["next_job"] = s.next_job_id();
  if (!s.next_error().empty()) j["next_error"] = s.next_error();
  for (const proto::JobSpec& step : s.spec().then()) j["then"].push_back(step.job());
  // Files shipped with the job (--files): what each task finds in its working directory.
  for (const proto::JobFile& f : s.spec().files()) {
    j["files"].push_back({{"name", f.name()}, {"sha256", f.sha256()}, {"size", f.size()}});
  }
  j["split_size"] = s.spec().split_size();
  j["args"] = std::map<std::string, std::string>(s.spec().args().begin(), s.spec().args().end());
  j["input_bytes"] = s.input_bytes();
  j["error"] = s.error();
  if (!s.waiting().empty()) j["waiting"] = s.waiting();
  if (s.state() == proto::JOB_QUEUED || s.state() == proto::JOB_RUNNING) {
    j["running_slots"] = s.running_slots();
    j["fair_share"] = s.fair_share();
    if (s.queue_position() > 0) j["queue_position"] = s.queue_position();
  }
  j["submit_time_ms"] = s.submit_time_ms();
  j["start_time_ms"] = s.start_time_ms();
  j["end_time_ms"] = s.end_time_ms();
  int64_t elapsed = s.start_time_ms() ? (s.end_time_ms() ? s.end_time_ms() : now_ms) - s.start_time_ms() : 0;
  j["elapsed_ms"] = elapsed;
  j["waited_ms"] = s.start_time_ms() ? s.start_time_ms() - s.submit_time_ms() : (s.end_time_ms() ? 0 : now_ms - s.submit_time_ms());
  json counters = json::object();
  for (auto& [k, v] : s.counters()) counters[k] = v;
  auto in = s.counters().find(counter::kMapInputBytes);
  j["input_bytes_per_s"] = in != s.counters().end() && elapsed > 0 ? in->second * 1000.0 / elapsed : 0.0;
  j["counters"] = std::move(counters);
  json failed = json::array();
  for (auto& f : s.failed_attempts()) failed.push_back(AttemptFailureJson(f));
  j["failed_attempts"] = std::move(failed);
  return j;
}

std::string JsonText(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace mr
