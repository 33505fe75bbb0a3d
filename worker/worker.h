// Worker: one worker process (DESIGN §2). Registers with the master over one control connection,
// heartbeats every `heartbeat` with its free slots, runs up to `slots` task attempts at once on its
// own threads (a map attempt uses `threads` threads), reports each attempt's end, serves its map
// output to reducers from its ShuffleServer and drops a job's data when the master says it ended.
// If the master connection breaks, the worker reconnects and registers again as a new worker.
//
// Threading: Run() blocks until SIGINT/SIGTERM. Network state lives on one io_context thread;
// tasks run on `slots` executor threads and post their reports back to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/units.h"

namespace mr {

struct WorkerOptions {
  HostPort master{"127.0.0.1", 7070};
  std::string data_dir;
  HostPort listen{"127.0.0.1", 0};
  int slots = 2;
  int threads = 1;
  std::chrono::milliseconds heartbeat{1000};
  uint64_t map_buffer_bytes = 256ull << 20;
  // The cluster token (DESIGN §6), for the master connection, the shuffle server and fetches; ""
  // = none, and then the shuffle server may only listen on loopback.
  std::string token;
};

Status RunWorker(const WorkerOptions& options);

}  // namespace mr
