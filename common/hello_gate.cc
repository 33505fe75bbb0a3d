#include "common/hello_gate.h"

#include <fmt/format.h>

#include "common/acceptor.h"
#include "common/log.h"

namespace mr {
namespace {

std::chrono::milliseconds HelloTimeout() {
  auto t = EnvMillis("MR_HELLO_TIMEOUT_MS", std::chrono::milliseconds(10000));
  return t.count() > 0 ? t : std::chrono::milliseconds(10000);
}

}  // namespace

// One accepted connection: its handshake until it is handed over, its owner's handlers after.
struct HelloGate::Connection {
  explicit Connection(ServerHandshake h) : hs(std::move(h)) {}
  ServerHandshake hs;
  bool ready = false;
  ChannelHandlers handlers;
  Channel::CloseFn on_refused;
};

HelloGate::HelloGate(asio::io_context& io, std::string server_name, std::string token,
                     std::vector<proto::Role> roles, ReadyFn on_ready, TimerSource* timers)
    : name_(std::move(server_name)),
      token_(std::move(token)),
      roles_(std::move(roles)),
      on_ready_(std::move(on_ready)),
      hello_timeout_(HelloTimeout()),
      max_pending_(ConnectionBudget("MR_MAX_PENDING_CONNECTIONS", 1024)),
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

void HelloGate::Accept(const std::shared_ptr<Channel>& ch, Channel::CloseFn on_refused) {
  auto conn = std::make_shared<Connection>(ServerHandshake(token_, roles_));
  conn->on_refused = std::move(on_refused);
  Admit(ch);
  std::weak_ptr<bool> alive = alive_;
  // The channel owns these callbacks (and so the connection state); it drops them after its
  // close, which breaks the cycle through the owner's handlers.
  Channel* raw = ch.get();
  ch->OnForeignProtocol([this, alive, raw](std::string_view header) -> std::optional<std::string> {
    if (alive.expired()) return std::nullopt;
    auto reply = HttpOnRpcPortReply(header, name_, http_address_);
    if (reply) spdlog::info("{}: {} sent an HTTP request to the RPC port; answered 400", name_, raw->peer());
    return reply;
  });
  ch->Start(
      [this, alive, conn, raw](proto::Envelope& m) {
        if (conn->ready) return conn->handlers.on_message(m);
        if (!alive.expired()) OnMessage(*raw, *conn, m);
      },
      [this, alive, conn, raw](const std::string& reason) {
        if (conn->ready) {
          if (conn->handlers.on_close) conn->handlers.on_close(reason);
          return;
        }
        if (!alive.expired()) Forget(raw);
        if (conn->on_refused) conn->on_refused(reason);
      });
}

void HelloGate::OnMessage(Channel& ch, Connection& c, proto::Envelope& m) {
  proto::Envelope reply;
  Status st = c.hs.OnMessage(m, &reply);
  ch.Send(reply);
  if (!st.ok()) {
    spdlog::warn("{}: refused {}: {}", name_, ch.peer(), st.message());
    Forget(&ch);
    ch.CloseAfterFlush(st.message());
    return;
  }
  if (!c.hs.done()) return;
  Forget(&ch);
  ch.MarkAuthenticated();
  c.handlers = on_ready_(ch.shared_from_this(), c.hs.role());
  c.ready = true;
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

void HelloGate::CloseAll(const std::string& reason) {
  std::list<Pending> pending;
  pending.swap(order_);
  index_.clear();
  for (Pending& p : pending) {
    if (auto ch = p.channel.lock()) ch->Close(reason);
  }
}

namespace {

// The client side's state on one connection.
struct ClientSide {
  ClientSide(std::string token, proto::Role role, ClientReadyFn d) : hs(std::move(token), role), done(std::move(d)) {}
  enum class Stage { kChallenge, kReply, kReady, kFailed };
  ClientHandshake hs;
  Stage stage = Stage::kChallenge;
  ClientReadyFn done;
  ChannelHandlers handlers;

  void Fail(Channel& ch, const Status& st) {
    stage = Stage::kFailed;
    auto d = std::move(done);
    ch.Close(st.message());
    (void)d(st);
  }
};

}  // namespace

void StartClientHandshake(const std::shared_ptr<Channel>& ch, std::string token, proto::Role role,
                          ClientReadyFn done) {
  auto side = std::make_shared<ClientSide>(std::move(token), role, std::move(done));
  Channel* raw = ch.get();
  ch->Start(
      [side, raw](proto::Envelope& m) {
        using Stage = ClientSide::Stage;
        switch (side->stage) {
          case Stage::kReady:
            return side->handlers.on_message(m);
          case Stage::kFailed:
            return;
          case Stage::kChallenge: {
            auto resp = side->hs.OnChallenge(m);
            if (!resp.ok()) return side->Fail(*raw, resp.status());
            side->stage = Stage::kReply;
            raw->Send(*resp);
            return;
          }
          case Stage::kReply: {
            Status st = side->hs.OnReply(m);
            if (!st.ok()) return side->Fail(*raw, st);
            side->stage = Stage::kReady;
            auto d = std::move(side->done);
            side->handlers = d(Status::OK());
            return;
          }
        }
      },
      [side](const std::string& reason) {
        using Stage = ClientSide::Stage;
        if (side->stage == Stage::kReady) {
          if (side->handlers.on_close) side->handlers.on_close(reason);
        } else if (side->stage != Stage::kFailed) {
          side->stage = Stage::kFailed;
          auto d = std::move(side->done);
          (void)d(Status::Unavailable(fmt::format("connection closed during the hello: {}", reason)));
        }
      });
  ch->Send(side->hs.Hello());
}

}  // namespace mr
