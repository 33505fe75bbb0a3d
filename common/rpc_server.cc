#include "common/rpc_server.h"

#include <fmt/format.h>

#include "common/acceptor.h"
#include "common/handshake.h"
#include "common/log.h"
#include "common/tls.h"

namespace mr {

RpcServerOptions RpcServerOptions::FromEnv() {
  RpcServerOptions o;
  o.limits.frame_timeout = EnvMillis("MR_FRAME_TIMEOUT_MS", o.limits.frame_timeout);
  o.limits.idle_timeout = EnvMillis("MR_IDLE_TIMEOUT_MS", o.limits.idle_timeout);
  auto hello = EnvMillis("MR_HELLO_TIMEOUT_MS", o.hello_timeout);
  if (hello.count() > 0) o.hello_timeout = hello;
  o.max_pending = ConnectionBudget("MR_MAX_PENDING_CONNECTIONS", o.max_pending);
  return o;
}

// One accepted connection: its hello until it is handed over, its owner's handlers after.
struct RpcServer::Connection {
  bool ready = false;
  ChannelHandlers handlers;
};

RpcServer::RpcServer(asio::io_context& io, std::string name, tcp::acceptor acceptor, std::shared_ptr<TlsContext> tls,
                     std::vector<proto::Role> roles, ReadyFn on_ready, RpcServerOptions options, TimerSource* timers)
    : io_(io),
      name_(std::move(name)),
      acceptor_(std::move(acceptor)),
      tls_(std::move(tls)),
      roles_(std::move(roles)),
      on_ready_(std::move(on_ready)),
      options_(options),
      own_timers_(timers ? nullptr : std::make_unique<AsioTimerSource>(io)),
      timers_(timers ? timers : own_timers_.get()),
      max_pending_(CapToFdBudget(options.max_pending)) {
  auto ep = acceptor_.local_endpoint();
  host_ = ep.address().to_string();
  port_ = ep.port();
}

RpcServer::~RpcServer() = default;

Result<std::shared_ptr<RpcServer>> RpcServer::Start(asio::io_context& io, std::string name, const HostPort& addr,
                                                    std::shared_ptr<TlsContext> tls, std::vector<proto::Role> roles,
                                                    ReadyFn on_ready, RpcServerOptions options, TimerSource* timers) {
  auto acceptor = Listen(io, addr);
  if (!acceptor.ok()) return acceptor.status();
  std::shared_ptr<RpcServer> s(new RpcServer(io, std::move(name), std::move(*acceptor), std::move(tls),
                                             std::move(roles), std::move(on_ready), options, timers));
  asio::co_spawn(io, [s] { return s->AcceptLoop(); }, asio::detached);
  s->ArmSweep();
  return s;
}

asio::awaitable<void> RpcServer::AcceptLoop() {
  auto self = shared_from_this();
  AcceptOptions options = BudgetedAccept(
      acceptor_, max_pending_, [this] { return order_.size(); },
      [this](std::chrono::milliseconds min_age, bool out_of_fds) {
        return CloseOldest(min_age, out_of_fds ? "out of file descriptors" : "too many connections without a hello");
      },
      kPendingGrace, kFdGrace);
  co_await mr::AcceptLoop(acceptor_, [this](tcp::socket s) { OnSocket(std::move(s)); }, std::move(options));
}

void RpcServer::ArmSweep() {
  auto period = std::clamp(options_.hello_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  std::weak_ptr<RpcServer> weak = weak_from_this();
  timers_->After(period, [weak] {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    const int64_t now = self->timers_->NowMs();
    const int64_t limit = self->options_.hello_timeout.count();
    while (!self->order_.empty() && self->order_.front().since_ms + limit <= now) {
      auto ch = self->order_.front().channel.lock();
      if (ch) self->index_.erase(ch.get());
      self->order_.pop_front();
      if (ch && !ch->closed()) {
        std::string reason = fmt::format("no hello within {} ms", limit);
        spdlog::warn("{}: closing {}: {}", self->name_, ch->peer(), reason);
        ch->Close(reason);
      }
    }
    self->ArmSweep();
  });
}

void RpcServer::OnSocket(tcp::socket socket) {
  if (stopped_) return;
  auto ch = std::make_shared<Channel>(std::move(socket), tls_, TlsSide::kServer, options_.limits, timers_);
  order_.push_back({ch, timers_->NowMs()});
  index_[ch.get()] = std::prev(order_.end());
  std::weak_ptr<RpcServer> weak = weak_from_this();
  auto conn = std::make_shared<Connection>();
  Channel* raw = ch.get();
  // The channel owns these callbacks (and so the connection's state); it drops them after its
  // close, which breaks the cycle through the owner's handlers.
  ch->OnForeignProtocol([weak, raw](std::string_view first) -> std::optional<std::string> {
    auto self = weak.lock();
    if (!self) return std::nullopt;
    auto reply = HttpOnRpcPortReply(first, self->name_, self->http_address_);
    if (reply) spdlog::info("{}: {} sent an HTTP request to the RPC port; answered 400", self->name_, raw->peer());
    return reply;
  });
  ch->Start(
      [weak, conn, raw](proto::Envelope& m) {
        if (conn->ready) return conn->handlers.on_message(m);
        if (auto self = weak.lock()) self->OnMessage(*raw, *conn, m);
      },
      [weak, conn, raw](const std::string& reason) {
        if (conn->ready) {
          if (conn->handlers.on_close) conn->handlers.on_close(reason);
          return;
        }
        auto self = weak.lock();
        if (!self) return;
        self->Forget(raw);
        if (raw->refused()) spdlog::warn("{}: refused {}: {}", self->name_, raw->peer(), reason);
        else if (reason != Channel::kPeerClosed) spdlog::debug("{}: {} closed before its hello: {}", self->name_, raw->peer(), reason);
      });
}

void RpcServer::OnMessage(Channel& ch, Connection& c, proto::Envelope& m) {
  proto::Role role = proto::ROLE_UNSPECIFIED;
  Status st = CheckHello(m, roles_, ch.credential(), &role);
  if (!st.ok()) {
    std::string who = ch.credential().kind == PeerCredential::Kind::kUser ? " (user " + ch.credential().user + ")" : "";
    spdlog::warn("{}: refused {}{}: {}", name_, ch.peer(), who, st.message());
    ch.Send(MakeHelloReply(st));
    Forget(&ch);
    ch.CloseAfterFlush(st.message());
    return;
  }
  ch.Send(MakeHelloReply(Status::OK()));
  Forget(&ch);
  ch.MarkAuthenticated();
  c.handlers = on_ready_(ch.shared_from_this(), role);
  c.ready = true;
}

void RpcServer::Forget(Channel* ch) {
  auto it = index_.find(ch);
  if (it == index_.end()) return;
  order_.erase(it->second);
  index_.erase(it);
}

bool RpcServer::CloseOldest(std::chrono::milliseconds min_age, const char* why) {
  while (!order_.empty() && (order_.front().channel.expired() || order_.front().channel.lock()->closed())) {
    if (auto ch = order_.front().channel.lock()) index_.erase(ch.get());
    order_.pop_front();
  }
  if (order_.empty() || timers_->NowMs() - order_.front().since_ms < min_age.count()) return false;
  auto ch = order_.front().channel.lock();
  index_.erase(ch.get());
  order_.pop_front();
  // Logged sparingly: a flood would otherwise flood the log too.
  if (evicted_++ % 100 == 0) {
    spdlog::warn("{} port {}: {} connections are waiting for their hello; closing the oldest ({}): {} ({} so far)",
                 name_, port_, order_.size() + 1, ch->peer(), why, evicted_);
  }
  ch->Close(why);
  return true;
}

void RpcServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ec;
  acceptor_.close(ec);
  std::list<Pending> pending;
  pending.swap(order_);
  index_.clear();
  for (Pending& p : pending) {
    if (auto ch = p.channel.lock()) ch->Close(name_ + " stopping");
  }
}

}  // namespace mr
