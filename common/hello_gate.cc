#include "common/hello_gate.h"

#include <cstdlib>
#include <fmt/format.h>

#include "common/log.h"

namespace mr {
namespace {

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (!v || !*v) return def;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  return (end && *end == 0 && n > 0) ? n : def;
}

}  // namespace

HelloGate::HelloGate(asio::io_context& io, std::string server_name, std::string token,
                     std::vector<proto::Role> roles, TimerSource* timers)
    : name_(std::move(server_name)),
      token_(std::move(token)),
      roles_(std::move(roles)),
      hello_timeout_(EnvInt("MR_HELLO_TIMEOUT_MS", 10000)),
      max_pending_(static_cast<size_t>(EnvInt("MR_MAX_PENDING_CONNECTIONS", 1024))),
      own_timers_(timers ? nullptr : std::make_unique<AsioTimerSource>(io)),
      timers_(timers ? timers : own_timers_.get()) {
  ArmSweep();
}

HelloGate::~HelloGate() = default;

void HelloGate::ArmSweep() {
  auto period = std::clamp(hello_timeout_ / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  std::weak_ptr<bool> alive = alive_;
  timers_->After(period, [this, alive] {
    if (alive.expired()) return;
    const int64_t now = timers_->NowMs();
    while (!order_.empty() && order_.front().deadline_ms <= now) {
      auto ch = order_.front().channel.lock();
      if (ch) index_.erase(ch.get());
      order_.pop_front();
      if (ch && !ch->closed()) {
        std::string reason = fmt::format("no hello within {} ms", hello_timeout_.count());
        spdlog::warn("{}: closing {}: {}", name_, ch->peer(), reason);
        ch->Close(reason);
      }
    }
    ArmSweep();
  });
}

void HelloGate::Admit(const std::shared_ptr<Channel>& ch) {
  if (order_.size() >= max_pending_) {
    auto old = order_.front().channel.lock();
    if (old) index_.erase(old.get());
    order_.pop_front();
    if (old && !old->closed()) {
      // Logged sparingly: a flood would otherwise flood the log too.
      if (evicted_++ % 100 == 0) {
        spdlog::warn("{}: {} connections are waiting for their hello; closing the oldest ({}) ({} so far)",
                     name_, max_pending_, old->peer(), evicted_);
      }
      old->Close("too many connections without a hello");
    }
  }
  order_.push_back({ch, timers_->NowMs() + hello_timeout_.count()});
  index_[ch.get()] = std::prev(order_.end());
}

void HelloGate::Forget(Channel* ch) {
  auto it = index_.find(ch);
  if (it == index_.end()) return;
  order_.erase(it->second);
  index_.erase(it);
}

bool HelloGate::Handle(Channel& ch, ServerHandshake& hs, const proto::Envelope& m) {
  proto::Envelope reply;
  Status st = hs.OnMessage(m, &reply);
  ch.Send(reply);
  if (!st.ok()) {
    spdlog::warn("{}: refused {}: {}", name_, ch.peer(), st.message());
    Forget(&ch);
    ch.CloseAfterFlush(st.message());
    return false;
  }
  if (hs.done()) {
    Forget(&ch);
    ch.MarkAuthenticated();
    return true;
  }
  return false;
}

}  // namespace mr
