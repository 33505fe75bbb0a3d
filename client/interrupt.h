// Ctrl-C (SIGINT) and SIGTERM for the client's long waits (`mr run`, `mr submit --wait`, `mr wait`):
// instead of ending the process, the signal sets a flag the waiting loop polls, so the client can
// say what keeps running and clean up what it started.
#pragma once

#include <atomic>

namespace mr {

// Installs the handlers (once; later calls only return the flag). The flag is set by the first
// SIGINT or SIGTERM and never cleared. Call from the main thread.
const std::atomic<bool>* CatchInterrupts();

}  // namespace mr
