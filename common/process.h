// Child processes: spawn, wait with a deadline, terminate. Used by `mr run` to start its master and
// workers, and by tests to run real clusters. Every spawned process must be reaped by its spawner.
// Thread-safety: functions are thread-safe; a pid must be waited for by one thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr {

struct ExitInfo {
  bool exited = false;   // exit() was called (else killed by a signal)
  int code = 0;          // exit code, when exited
  int signal = 0;        // the signal, when killed
  long max_rss_kb = 0;   // peak resident memory of the process
  std::string ToString() const;
};

// Starts argv[0] with argv. stdout and stderr go to log_path (appended) unless it is empty.
// extra_env entries ("K=V") are added to the environment.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::vector<std::string>& extra_env = {});

// Waits up to `timeout` for the child to end; Unavailable if it is still running.
Result<ExitInfo> WaitFor(pid_t pid, std::chrono::milliseconds timeout);

// SIGTERM, then SIGKILL after `grace`; always reaps.
ExitInfo Terminate(pid_t pid, std::chrono::milliseconds grace);

// The absolute path of the running executable.
std::string SelfExe();

}  // namespace mr
