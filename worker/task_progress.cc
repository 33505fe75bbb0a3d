#include "worker/task_progress.h"

#include <signal.h>

namespace mr {
namespace {

TaskProgress* g_progress = nullptr;
thread_local int t_slot = -1;

// Async-signal-safe: two atomic stores, then the default action of the same signal.
void OnFatalSignal(int sig) {
  if (g_progress != nullptr && g_progress->crashed_slot.load(std::memory_order_relaxed) < 0) {
    g_progress->crash_signal.store(sig, std::memory_order_relaxed);
    g_progress->crashed_slot.store(t_slot, std::memory_order_relaxed);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

ProgressSlot* TaskProgress::Enter(TaskProgress* progress, int slot) {
  if (progress == nullptr) return nullptr;
  t_slot = slot;
  return &progress->slots[slot];
}

void NoteCrashesIn(TaskProgress* progress) {
  g_progress = progress;
  struct sigaction sa {};
  sa.sa_handler = OnFatalSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
}

}  // namespace mr
