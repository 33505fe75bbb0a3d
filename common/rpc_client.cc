#include "common/rpc_client.h"

#include <fmt/format.h>

#include "common/handshake.h"
#include "common/tls.h"

#include <boost/asio/error.hpp>

namespace mr {

// Unavailable (the peer), unless this process ran out of descriptors or memory (kResourceExhausted).
Status ConnectError(const HostPort& addr, const boost::system::error_code& ec) {
  std::string what = fmt::format("cannot connect to {}", addr.ToString());
  if (ec.category() == boost::asio::error::get_system_category()) {
    return Status::FromErrno(ec.value(), what, Status::Code::kUnavailable);
  }
  return Status::Unavailable(fmt::format("{}: {}", what, ec.message()));
}
namespace {

// One connection's state until it is handed over.
struct Attempt {
  enum class Stage { kHello, kReady, kDone };
  Stage stage = Stage::kHello;
  ConnectedFn done;
  ChannelHandlers handlers;
  std::string address;

  void Finish(const std::shared_ptr<Channel>& ch, Status st) {
    stage = Stage::kDone;
    auto d = std::move(done);
    if (ch) ch->Close(st.message());
    (void)d(std::move(st));
  }
};

// Why a connection closed before its hello ended, as the caller should see it.
Status ClosedBeforeHello(const Channel& ch, const std::string& reason, const std::string& address) {
  if (ch.peer_not_tls()) {
    return Status::Protocol(fmt::format(
        "{} answered without TLS: it is not an mr RPC port of this version (a web port, such as a master's --http "
        "dashboard? the RPC port is the master's --listen address, default port 7070)",
        address));
  }
  if (ch.refused()) return Status::Aborted(fmt::format("{} ({})", kAuthFailed, reason));
  if (reason.starts_with("TLS handshake failed")) return Status::Aborted(fmt::format("{} ({})", kAuthFailed, reason));
  return Status::Unavailable(fmt::format("connection closed during the handshake: {}", reason));
}

void Handshake(const std::shared_ptr<Channel>& ch, proto::Role role, std::shared_ptr<Attempt> a) {
  Channel* raw = ch.get();
  ch->Start(
      [a, raw](proto::Envelope& m) {
        switch (a->stage) {
          case Attempt::Stage::kReady:
            return a->handlers.on_message(m);
          case Attempt::Stage::kDone:
            return;
          case Attempt::Stage::kHello: {
            Status st = CheckHelloReply(m);
            if (!st.ok()) return a->Finish(raw->shared_from_this(), st);
            raw->MarkAuthenticated();
            a->stage = Attempt::Stage::kReady;
            auto d = std::move(a->done);
            a->handlers = d(raw->shared_from_this());
            return;
          }
        }
      },
      [a, raw](const std::string& reason) {
        if (a->stage == Attempt::Stage::kReady) {
          if (a->handlers.on_close) a->handlers.on_close(reason);
        } else if (a->stage == Attempt::Stage::kHello) {
          a->Finish(nullptr, ClosedBeforeHello(*raw, reason, a->address));
        }
      });
  ch->Send(MakeHello(role));
}

}  // namespace

void ConnectRpc(asio::io_context& io, const HostPort& addr, std::shared_ptr<TlsContext> tls, proto::Role role,
                ConnectedFn done, ConnectOptions options) {
  auto a = std::make_shared<Attempt>();
  a->done = std::move(done);
  a->address = addr.ToString();
  asio::co_spawn(
      io,
      [&io, addr, tls = std::move(tls), role, options, a]() -> asio::awaitable<void> {
        error_code ec;
        tcp::resolver resolver(io);
        auto results = co_await resolver.async_resolve(addr.host, std::to_string(addr.port),
                                                       asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          a->Finish(nullptr, Status::Unavailable(fmt::format("cannot resolve {}: {}", addr.host, ec.message())));
          co_return;
        }
        // A host that does not answer (cut off, or gone) fails after `timeout`, not after the
        // kernel's minutes of SYN retries.
        auto socket = std::make_shared<tcp::socket>(io);
        auto timer = std::make_shared<asio::steady_timer>(io, options.timeout);
        auto timed_out = std::make_shared<bool>(false);
        timer->async_wait([socket, timed_out](const error_code& e) {
          if (e) return;
          *timed_out = true;
          error_code ignored;
          socket->close(ignored);
        });
        co_await asio::async_connect(*socket, results, asio::redirect_error(asio::use_awaitable, ec));
        timer->cancel();
        if (*timed_out) ec = asio::error::timed_out;
        if (ec) {
          a->Finish(nullptr, ConnectError(addr, ec));
          co_return;
        }
        auto ch = std::make_shared<Channel>(std::move(*socket), tls, TlsSide::kClient, options.limits, options.timers);
        // The TLS handshake and the hello reply must come within `timeout` too.
        auto deadline = std::make_shared<asio::steady_timer>(io, options.timeout);
        std::weak_ptr<Channel> weak = ch;
        deadline->async_wait([deadline, weak, a, timeout = options.timeout](const error_code& e) {
          auto c = weak.lock();
          if (e || !c || a->stage != Attempt::Stage::kHello) return;
          a->Finish(c, Status::Unavailable(fmt::format("no answer to the hello within {} ms", timeout.count())));
        });
        Handshake(ch, role, a);
      },
      asio::detached);
}

}  // namespace mr
