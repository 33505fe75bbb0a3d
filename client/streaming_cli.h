// `mr streaming ARGS`: Hadoop Streaming's own command line, as `hadoop jar hadoop-streaming.jar
// ARGS` takes it (single-dash options, generic options such as -D first), turned into an mr job.
// What mr implements is translated; every option, property or Java class it does not is refused
// by name before anything runs, never ignored. With --master the job goes to that cluster (as `mr
// submit --wait`), otherwise to a local cluster started for it (as `mr run`).
// Pure parsing here (thread-safe); client/cli.cc runs the result.
#pragma once

#include <string>
#include <vector>

#include "client/commands.h"

namespace mr {

struct HadoopStreamingJob {
  SubmitOptions submit;
  std::string master;      // --master as given; "" = run on a local cluster
  std::string token_file;  // --token-file as given
  bool background = false; // -background: submit and return (with --master only)
  bool help = false;       // -help or -info: show the options, run nothing
};

// `args`: what follows `mr streaming`. InvalidArgument names the option at fault.
Result<HadoopStreamingJob> ParseHadoopStreaming(const std::vector<std::string>& args);

// The options `mr help streaming` lists.
std::string HadoopStreamingHelp();

}  // namespace mr
