// TimerSource: time and timers for the decisions that depend on time passing (a handshake that
// never finished, a worker gone silent), behind an interface so tests drive them by advancing a
// manual clock instead of sleeping. (An injected clock alone does not reach Asio's timers: the
// timers come from here too.)
//   AsioTimerSource    the steady clock and steady_timers on an io_context (production)
//   ManualTimerSource  a clock that moves only when Advance() is called, which runs every timer
//                      that has come due, in due order (tests)
//   EpochClock         epoch milliseconds that advance with a TimerSource (the master's "now")
// Thread-safety: a TimerSource is used from its io_context's thread (AsioTimerSource) or the
// test's thread (ManualTimerSource); callbacks run there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "common/asio.h"
#include "common/clock.h"

namespace mr {

class TimerSource {
 public:
  using Millis = std::chrono::milliseconds;
  virtual ~TimerSource() = default;
  // Monotonic milliseconds (not wall time: ages and deadlines only).
  virtual int64_t NowMs() const = 0;
  // Runs fn once, `delay` from now (on the source's thread). There is no cancel: a callback
  // checks whether its owner still wants it (e.g. through a weak_ptr).
  virtual void After(Millis delay, std::function<void()> fn) = 0;
};

class AsioTimerSource : public TimerSource {
 public:
  explicit AsioTimerSource(asio::io_context& io) : executor_(io.get_executor()) {}
  explicit AsioTimerSource(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  int64_t NowMs() const override;
  void After(Millis delay, std::function<void()> fn) override;

 private:
  asio::any_io_executor executor_;
};

class ManualTimerSource : public TimerSource {
 public:
  int64_t NowMs() const override { return now_ms_; }
  void After(Millis delay, std::function<void()> fn) override;
  // Moves the clock forward by `d`, running every timer due by then (also those the callbacks
  // add), each with the clock at its due time.
  void Advance(Millis d);
  size_t pending() const { return timers_.size(); }

 private:
  int64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  std::multimap<std::pair<int64_t, uint64_t>, std::function<void()>> timers_;  // (due, seq) -> fn
};

// Milliseconds since the Unix epoch that move only with `timers`: the wall clock read once, at
// construction, plus the time `timers` has measured since. The master stamps jobs and measures
// ages (heartbeats, attempt durations, backups) with one such clock, so a step of the wall clock
// (NTP, an operator) neither declares workers dead nor fires backups, and a test moves it with a
// ManualTimerSource. Stamps differ from the wall clock only by the steps since the start.
class EpochClock {
 public:
  // timers: not owned, must outlive the clock.
  explicit EpochClock(const TimerSource& timers, int64_t epoch_ms = mr::NowMs())
      : timers_(timers), epoch_ms_(epoch_ms), start_ms_(timers.NowMs()) {}
  int64_t NowMs() const { return epoch_ms_ + (timers_.NowMs() - start_ms_); }

 private:
  const TimerSource& timers_;
  int64_t epoch_ms_;
  int64_t start_ms_;
};

}  // namespace mr
