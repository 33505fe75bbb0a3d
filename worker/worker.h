// Worker: one worker process (DESIGN §2, §5, §10). Locks its data dir and keeps a stable identity
// there (an id, and an incarnation counted up at every start). Registers with the master over one
// control connection with its identity, the shuffle address other hosts reach it by (--advertise,
// or its own address on the master connection when it listens on a wildcard) and the map outputs
// its store still holds; heartbeats every `heartbeat` with its free slots; runs up to `slots`
// task attempts at once on its own threads (a map attempt uses `threads` threads); reports each
// attempt's end (a report that cannot be delivered waits for the next registration); serves its
// map output to reducers from its ShuffleServer and drops a job's data when the master says it
// ended. If the master connection breaks (or stays unacknowledged for a few heartbeats), the worker
// reconnects with backoff and jitter and registers again, as the same worker.
//
// Threading: Run() blocks until SIGINT/SIGTERM. The master connection lives on one io_context
// thread; the shuffle server on a second one (a slow or huge fetch never delays a heartbeat);
// tasks run on `slots` executor threads and post their reports back to the first.
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
  // The host other machines reach this worker's shuffle server by; "" = the listen host, or when
  // that is a wildcard, this host's address on its connection to the master.
  std::string advertise;
  int slots = 2;
  int threads = 1;
  std::chrono::milliseconds heartbeat{1000};
  uint64_t map_buffer_bytes = 256ull << 20;
  // The most map outputs a reduce attempt merges at once (ReduceOptions::merge_factor; 0 = from the
  // open-file limit).
  int merge_factor = 0;
  // The cluster token (DESIGN §6), for the master connection, the shuffle server and fetches; ""
  // = none, and then the shuffle server may only listen on loopback.
  std::string token;
};

Status RunWorker(const WorkerOptions& options);

}  // namespace mr
