// TaskProgress: what a task process shows its worker while it runs (worker/task_process.h), in a
// shared memory page both map: per thread, the input record it is on and a count that moves with
// every record (or reduce group), and which thread crashed with which signal. The worker reads it
// to tell a stuck task from a slow one (--task-timeout) and to name the record a task died on.
// Plain atomics, no locks: the task process writes (each thread its own slot), the worker reads.
#pragma once

#include <atomic>
#include <cstdint>

namespace mr {

struct alignas(64) ProgressSlot {
  std::atomic<uint64_t> ticks{0};
  std::atomic<uint32_t> part{0};         // the part of a combined split
  std::atomic<uint64_t> offset{kNone};   // the byte offset of the record being mapped; kNone: none
  std::atomic<bool> block{false};        // offset starts a block of records handed over at once
  static constexpr uint64_t kNone = ~uint64_t{0};

  // One more record (or block): the thread's mapper is now on `offset` of `part`.
  void Record(uint32_t p, uint64_t off, bool whole_block = false) {
    part.store(p, std::memory_order_relaxed);
    block.store(whole_block, std::memory_order_relaxed);
    offset.store(off, std::memory_order_relaxed);
    ticks.store(ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // The mapper returned from it.
  void Leave() { offset.store(kNone, std::memory_order_relaxed); }
  void Tick() { ticks.store(ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

struct TaskProgress {
  static constexpr int kSlots = 64;
  ProgressSlot slots[kSlots];
  std::atomic<int32_t> crashed_slot{-1};  // the slot of the thread a fatal signal hit
  std::atomic<int32_t> crash_signal{0};
  std::atomic<uint64_t> reported{0};     // the user's code said it is alive (a streaming status line)

  uint64_t Ticks() const {
    uint64_t sum = 0;
    for (const ProgressSlot& s : slots) sum += s.ticks.load(std::memory_order_relaxed);
    return sum + reported.load(std::memory_order_relaxed);
  }
  // The calling thread works in slot `slot` (0 .. kSlots-1): a crash on it is charged to that
  // slot's record. Returns the slot, or nullptr when `progress` is null.
  static ProgressSlot* Enter(TaskProgress* progress, int slot);
};

// In a task process: installs handlers for fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
// that note the crashing thread's slot and signal in `progress`, then die of the signal as before.
void NoteCrashesIn(TaskProgress* progress);

}  // namespace mr
