#include "common/timer_source.h"

namespace mr {

int64_t AsioTimerSource::NowMs() const {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void AsioTimerSource::After(Millis delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(executor_, delay);
  timer->async_wait([timer, fn = std::move(fn)](const error_code& e) {
    if (!e) fn();
  });
}

void ManualTimerSource::After(Millis delay, std::function<void()> fn) {
  timers_.emplace(std::make_pair(now_ms_ + delay.count(), seq_++), std::move(fn));
}

void ManualTimerSource::Advance(Millis d) {
  const int64_t until = now_ms_ + d.count();
  while (!timers_.empty() && timers_.begin()->first.first <= until) {
    auto it = timers_.begin();
    now_ms_ = std::max(now_ms_, it->first.first);
    auto fn = std::move(it->second);
    timers_.erase(it);
    fn();
  }
  now_ms_ = until;
}

}  // namespace mr
