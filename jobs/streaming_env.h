// The environment of a streaming command: what Hadoop Streaming tells its processes (DESIGN §4).
// In order, later entries winning:
//   - the worker's own environment without any credential (common/credentials.h);
//   - the job's configuration: every property (`-D NAME=VALUE`, which is mr's `--arg`) as NAME with
//     each character other than an ASCII letter or digit made '_' (mapreduce.job.name ->
//     mapreduce_job_name), as Hadoop exports its configuration;
//   - the attempt's variables under Hadoop's names, new and old: mapreduce_job_id,
//     mapreduce_task_id, mapreduce_task_attempt_id, mapreduce_task_partition,
//     mapreduce_task_ismap, mapreduce_job_reduces and, for a map, mapreduce_map_input_file,
//     mapreduce_map_input_start, mapreduce_map_input_length (the file range being read: a combined
//     split's current part); and mapred_job_id, mapred_tip_id, mapred_task_id,
//     mapred_task_partition, mapred_task_is_map, mapred_reduce_tasks, map_input_file,
//     map_input_start, map_input_length;
//   - the variables of `--cmdenv K=V` (Hadoop's -cmdenv), kept in the property
//     stream.addenvironment as Hadoop keeps them: space-separated K=V.
// Ids are Hadoop's forms with "mr" as the cluster: job_mr_0007, task_mr_0007_m_000003,
// attempt_mr_0007_m_000003_0 (Hadoop counts attempts from 0).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "jobs/job.h"

namespace mr {

inline constexpr char kCmdEnvProperty[] = "stream.addenvironment";

// `input` is the range a map command reads, or null (a reduce or combiner command, or no task).
std::vector<std::string> StreamingEnvironment(const JobArgs& args, const TaskIdentity* task,
                                              const InputSplitInfo* input);

// Adds one `--cmdenv K=V` to the job's configuration. InvalidArgument for a K that is not a
// variable name, or a V with a space (the property separates variables by spaces, as Hadoop's).
Status AddCmdEnv(const std::string& kv, JobArgs* args);

// "mapreduce.job.name" -> "mapreduce_job_name".
std::string EnvironmentName(const std::string& property);

}  // namespace mr
