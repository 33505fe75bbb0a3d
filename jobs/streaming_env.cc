#include "jobs/streaming_env.h"

#include <fmt/format.h>

#include <map>

#include "common/credentials.h"

namespace mr {

std::string EnvironmentName(const std::string& property) {
  std::string name = property;
  for (char& c : name) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) c = '_';
  }
  return name;
}

std::vector<std::string> StreamingEnvironment(const JobArgs& args, const TaskIdentity* task,
                                              const InputSplitInfo* input) {
  // By name, so a later source replaces an earlier one; the worker's own first.
  std::map<std::string, std::string> vars;
  for (const std::string& kv : ScrubbedEnvironment()) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : args) {
    if (k != kCmdEnvProperty) vars[EnvironmentName(k)] = v;
  }
  if (task != nullptr) {
    const char kind = task->map ? 'm' : 'r';
    const std::string job = fmt::format("mr_{:04}", task->job_id);
    const std::string tip = fmt::format("task_{}_{}_{:06}", job, kind, task->index);
    const std::string attempt = fmt::format("attempt_{}_{}_{:06}_{}", job, kind, task->index,
                                            task->attempt > 0 ? task->attempt - 1 : 0);
    const std::string is_map = task->map ? "true" : "false";
    for (const char* n : {"mapreduce_job_id", "mapred_job_id"}) vars[n] = "job_" + job;
    for (const char* n : {"mapreduce_task_id", "mapred_tip_id"}) vars[n] = tip;
    for (const char* n : {"mapreduce_task_attempt_id", "mapred_task_id"}) vars[n] = attempt;
    for (const char* n : {"mapreduce_task_partition", "mapred_task_partition"}) vars[n] = std::to_string(task->index);
    for (const char* n : {"mapreduce_task_ismap", "mapred_task_is_map"}) vars[n] = is_map;
    for (const char* n : {"mapreduce_job_reduces", "mapred_reduce_tasks"}) vars[n] = std::to_string(task->reducers);
  }
  if (input != nullptr) {
    for (const char* n : {"mapreduce_map_input_file", "map_input_file"}) vars[n] = input->path;
    for (const char* n : {"mapreduce_map_input_start", "map_input_start"}) vars[n] = std::to_string(input->offset);
    for (const char* n : {"mapreduce_map_input_length", "map_input_length"}) vars[n] = std::to_string(input->length);
  }
  if (auto it = args.find(kCmdEnvProperty); it != args.end()) {
    const std::string& list = it->second;
    for (size_t b = 0; b < list.size();) {
      size_t e = list.find(' ', b);
      if (e == std::string::npos) e = list.size();
      std::string kv = list.substr(b, e - b);
      size_t eq = kv.find('=');
      if (eq != std::string::npos && eq > 0) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
      b = e + 1;
    }
  }
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  return env;
}

Status AddCmdEnv(const std::string& kv, JobArgs* args) {
  size_t eq = kv.find('=');
  std::string name = kv.substr(0, eq);
  bool valid = eq != std::string::npos && !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!valid) return Status::InvalidArgument(fmt::format("--cmdenv {}: want NAME=VALUE, NAME letters, digits and _", kv));
  if (kv.find(' ', eq) != std::string::npos) {
    return Status::InvalidArgument(fmt::format("--cmdenv {}: a value cannot hold a space (Hadoop's -cmdenv neither)", kv));
  }
  std::string& list = (*args)[kCmdEnvProperty];
  if (!list.empty()) list += ' ';
  list += kv;
  return Status::OK();
}

}  // namespace mr
