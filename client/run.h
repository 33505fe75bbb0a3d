// `mr run`: the embedded default (DESIGN §2). Starts a master and N worker processes (this same
// binary) on loopback with temporary data dirs, runs one job with progress (and names the master's
// dashboard address), prints the summary and
// the peak memory of each process, and shuts everything down — also on Ctrl-C. The processes' logs
// are kept (and named) when the job fails. With --then, the master runs a pipeline: several jobs
// one after the other on the same cluster, each reading the output of the one before.
#pragma once

#include "client/commands.h"

namespace mr {

struct RunOptions {
  SubmitOptions submit;
  int workers = 2;
  int slots = 0;     // per worker; 0 = cores / workers (at least 1)
  int threads = 1;   // per map task
  std::string keep_logs;  // directory to copy the logs to; empty = only on failure
  std::string http = "127.0.0.1:0";  // the master's dashboard
  bool json = false;
  int show = kDefaultShowLines;  // output lines shown when the job succeeds
  // After the job ends, keep the master (and its dashboard) up until Ctrl-C.
  bool keep_dashboard = false;
  std::string token_file;  // passed to the master, workers and client ("" = $MR_TOKEN or none)
};

int CmdRun(const RunOptions& options);

}  // namespace mr
