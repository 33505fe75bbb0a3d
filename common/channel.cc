#include "common/channel.h"

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

#include <fmt/format.h>

#include "common/acceptor.h"
#include "common/fd_limit.h"
#include "common/log.h"

namespace mr {
namespace {

// "::ffff:10.0.0.7" (an IPv4 peer of a dual-stack socket) is shown and advertised as 10.0.0.7.
std::string HostText(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return a.to_v6().to_v4().to_string();
  return a.to_string();
}

}  // namespace

ChannelLimits ChannelLimits::Server() {
  ChannelLimits l;
  l.frame_timeout = EnvMillis("MR_FRAME_TIMEOUT_MS", l.frame_timeout);
  l.idle_timeout = EnvMillis("MR_IDLE_TIMEOUT_MS", std::chrono::minutes(5));
  return l;
}

ChannelLimits ChannelLimits::Client() {
  ChannelLimits l;
  l.unauthenticated_max_frame = l.max_frame;
  l.frame_timeout = EnvMillis("MR_FRAME_TIMEOUT_MS", l.frame_timeout);
  return l;
}

Channel::Channel(tcp::socket socket, ChannelLimits limits)
    : socket_(std::move(socket)),
      wake_writer_(socket_.get_executor()),
      watchdog_(socket_.get_executor()),
      limits_(limits) {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : HostPort{HostText(ep.address()), ep.port()}.ToString();
  if (!ec) remote_host_ = HostText(ep.address());
  auto local = socket_.local_endpoint(ec);
  if (!ec) local_host_ = HostText(local.address());
  socket_.set_option(tcp::no_delay(true), ec);
}

void Channel::Start(MessageFn on_message, CloseFn on_close) {
  on_message_ = std::move(on_message);
  on_close_ = std::move(on_close);
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self] { return self->ReadLoop(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self] { return self->WriteLoop(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self] { return self->Watchdog(); }, asio::detached);
}

void Channel::MarkAuthenticated() {
  if (authenticated_) return;
  authenticated_ = true;
  if (!in_frame_) SetTimeout(limits_.idle_timeout, "idle");
}

void Channel::SetTimeout(std::chrono::milliseconds timeout, const char* what) {
  timeout_ = timeout;
  timeout_what_ = what;
  last_progress_ = std::chrono::steady_clock::now();
  // The watchdog sleeps until the old deadline; wake it when the new one comes sooner.
  if (timeout.count() > 0 && last_progress_ + timeout < watchdog_.expiry()) watchdog_.cancel();
}

asio::awaitable<void> Channel::Watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    const auto now = std::chrono::steady_clock::now();
    if (timeout_.count() > 0 && now - last_progress_ >= timeout_) {
      Close(std::string(timeout_what_) == "idle"
                ? fmt::format("idle for {} ms", timeout_.count())
                : fmt::format("{} stalled for {} ms", timeout_what_, timeout_.count()));
      co_return;
    }
    watchdog_.expires_at(timeout_.count() > 0 ? last_progress_ + timeout_
                                              : asio::steady_timer::time_point::max());
    error_code ec;
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<error_code> Channel::ReadSome(char* data, size_t size, size_t* got) {
  *got = 0;
  while (*got < size) {
    error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(data + *got, size - *got),
                                                asio::redirect_error(asio::use_awaitable, ec));
    *got += n;
    if (ec) co_return ec;
    if (!in_frame_) {
      in_frame_ = true;
      SetTimeout(limits_.frame_timeout, "frame");
    } else {
      last_progress_ = std::chrono::steady_clock::now();
    }
  }
  co_return error_code{};
}

void Channel::SetUserTimeout(std::chrono::milliseconds timeout) {
  unsigned int ms = static_cast<unsigned int>(timeout.count());
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
}

void Channel::Send(const proto::Envelope& msg) {
  if (Status st = CheckSendable(msg); !st.ok()) {
    spdlog::warn("sending {} to {} with invalid UTF-8 replaced: {}", MessageName(msg), peer_, st.message());
    proto::Envelope fixed = msg;
    MakeSendable(&fixed);
    Send(EncodeFrame(fixed));
    return;
  }
  Send(EncodeFrame(msg));
}

void Channel::Send(std::string frame) {
  if (closed_ || close_after_flush_) return;
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  wake_writer_.cancel();
}

void Channel::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  wake_writer_.cancel();
  watchdog_.cancel();
  // The queue is left alone: a write of its front may still be completing. It goes with the
  // channel.
  // The callbacks run later, never inside the caller's frame, and are dropped after that so that
  // captures which point back at this channel are released.
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self, reason] {
    if (self->on_close_) self->on_close_(reason);
    self->on_close_ = nullptr;
    self->on_message_ = nullptr;
    self->on_bad_frame_ = nullptr;
  });
}

void Channel::BadFrame(const std::string& why) {
  proto::Envelope error;
  error.mutable_error()->set_message(why);
  Send(error);
  if (on_bad_frame_) on_bad_frame_(why);
}

void Channel::CloseAfterFlush(const std::string& reason) {
  if (closed_) return;
  close_after_flush_ = true;
  close_reason_ = reason;
  wake_writer_.cancel();
}

asio::awaitable<void> Channel::ReadLoop() {
  auto self = shared_from_this();
  char header[kFrameHeaderSize];
  SetTimeout(authenticated_ ? limits_.idle_timeout : std::chrono::milliseconds(0), "idle");
  while (!closed_) {
    size_t n = 0;
    error_code ec = co_await ReadSome(header, kFrameHeaderSize, &n);
    if (ec) {
      if (ec == asio::error::eof && n == 0) Close("peer closed the connection");
      else if (ec == asio::error::eof) Close("truncated frame header");
      else Close(ec.message());
      co_return;
    }
    const uint32_t len = DecodeFrameLength(header);
    const uint32_t limit = authenticated_ ? limits_.max_frame : limits_.unauthenticated_max_frame;
    if (len > limit) {
      if (!authenticated_ && on_foreign_) {
        if (auto reply = on_foreign_(std::string_view(header, kFrameHeaderSize))) {
          Send(std::move(*reply));
          CloseAfterFlush("not the mr protocol (an HTTP request)");
          co_return;
        }
      }
      std::string why = fmt::format("frame of {} bytes exceeds the limit of {} bytes{}", len, limit,
                                    authenticated_ ? "" : " before authentication");
      if (!authenticated_ || !on_bad_frame_) {
        Close(why);
        co_return;
      }
      // An authenticated peer keeps its connection: the frame's bytes are read and dropped (in
      // small steps, under the frame timeout), and its owner decides what the loss means.
      std::string scratch(64u << 10, '\0');
      for (size_t left = len; left > 0;) {
        size_t step = std::min(left, scratch.size());
        ec = co_await ReadSome(scratch.data(), step, &n);
        if (ec) {
          Close(fmt::format("truncated frame ({} of {} bytes): {}", len - left + n, len, ec.message()));
          co_return;
        }
        left -= step;
      }
      in_frame_ = false;
      SetTimeout(limits_.idle_timeout, "idle");
      BadFrame(why);
      continue;
    }
    // The buffer grows with what arrived: a peer that declares a big frame and stalls holds only
    // what it sent (at most twice that), until the frame timeout closes it.
    std::string body;
    size_t have = 0;
    while (have < len) {
      size_t step = NextFrameStep(have, len);
      body.resize(have + step);
      ec = co_await ReadSome(body.data() + have, step, &n);
      have += n;
      if (ec) {
        Close(fmt::format("truncated frame ({} of {} bytes): {}", have, len, ec.message()));
        co_return;
      }
    }
    in_frame_ = false;
    SetTimeout(authenticated_ ? limits_.idle_timeout : std::chrono::milliseconds(0), "idle");
    auto msg = DecodeFrameBody(body);
    body = std::string();
    if (!msg.ok()) {
      if (authenticated_ && on_bad_frame_) {
        BadFrame(msg.status().message());
        continue;
      }
      // Tell the peer why before closing: a client then prints the reason, not "closed".
      proto::Envelope error;
      error.mutable_error()->set_message(msg.status().message());
      Send(error);
      CloseAfterFlush(msg.status().message());
      co_return;
    }
    if (closed_ || close_after_flush_) co_return;
    on_message_(*msg);
  }
}

asio::awaitable<void> Channel::WriteLoop() {
  auto self = shared_from_this();
  while (!closed_) {
    if (queue_.empty()) {
      if (close_after_flush_) {
        Close(close_reason_);
        co_return;
      }
      error_code ec;
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_writer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(queue_.front()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      Close("write failed: " + ec.message());
      co_return;
    }
    if (closed_) co_return;  // closed while the write completed
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
  }
}

Listener::Listener(tcp::acceptor acceptor, ChannelLimits limits)
    : acceptor_(std::move(acceptor)), limits_(limits) {
  auto ep = acceptor_.local_endpoint();
  host_ = ep.address().to_string();
  port_ = ep.port();
  max_unauthenticated_ = ConnectionBudget("MR_MAX_PENDING_CONNECTIONS", 1024);
}

Result<std::shared_ptr<Listener>> Listener::Bind(asio::io_context& io, const HostPort& addr,
                                                 ChannelLimits limits) {
  auto acceptor = Listen(io, addr);
  if (!acceptor.ok()) return acceptor.status();
  return std::shared_ptr<Listener>(new Listener(std::move(*acceptor), limits));
}

size_t Listener::unauthenticated() {
  std::erase_if(waiting_, [](const Waiting& w) {
    auto ch = w.channel.lock();
    return !ch || ch->closed() || ch->authenticated();
  });
  return waiting_.size();
}

bool Listener::CloseOldestUnauthenticated(std::chrono::milliseconds min_age, const char* why) {
  if (unauthenticated() == 0) return false;
  if (std::chrono::steady_clock::now() - waiting_.front().since < min_age) return false;
  auto ch = waiting_.front().channel.lock();
  waiting_.pop_front();
  // Logged sparingly: a flood would otherwise flood the log too.
  if (evicted_++ % 100 == 0) {
    spdlog::warn("port {}: {} connections are waiting for their hello; closing the oldest ({}): {} ({} so far)",
                 port_, waiting_.size() + 1, ch->peer(), why, evicted_);
  }
  ch->Close(why);
  return true;
}

void Listener::Start(AcceptFn on_accept) {
  on_accept_ = std::move(on_accept);
  auto self = shared_from_this();
  asio::co_spawn(acceptor_.get_executor(), [self] { return self->Run(); }, asio::detached);
}

asio::awaitable<void> Listener::Run() {
  auto self = shared_from_this();
  AcceptOptions options = BudgetedAccept(
      acceptor_, max_unauthenticated_, [this] { return unauthenticated(); },
      [this](std::chrono::milliseconds min_age, bool out_of_fds) {
        return CloseOldestUnauthenticated(min_age, out_of_fds ? "out of file descriptors"
                                                              : "too many connections without a hello");
      },
      kHelloGrace, kFdGrace);
  co_await AcceptLoop(
      acceptor_,
      [this](tcp::socket socket) {
        auto ch = std::make_shared<Channel>(std::move(socket), limits_);
        waiting_.push_back({ch, std::chrono::steady_clock::now()});
        on_accept_(ch);
      },
      std::move(options));
}

void Listener::Stop() {
  error_code ec;
  acceptor_.close(ec);
}

void AsyncConnect(asio::io_context& io, const HostPort& addr,
                  std::function<void(Result<std::shared_ptr<Channel>>)> done, std::chrono::milliseconds timeout) {
  asio::co_spawn(
      io,
      [&io, addr, timeout, done = std::move(done)]() -> asio::awaitable<void> {
        error_code ec;
        tcp::resolver resolver(io);
        auto results = co_await resolver.async_resolve(
            addr.host, std::to_string(addr.port), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          done(Status::Unavailable(fmt::format("cannot resolve {}: {}", addr.host, ec.message())));
          co_return;
        }
        // A host that does not answer (cut off, or gone) fails after `timeout`, not after the
        // kernel's minutes of SYN retries.
        auto socket = std::make_shared<tcp::socket>(io);
        auto timer = std::make_shared<asio::steady_timer>(io, timeout);
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
          done(Status::Unavailable(fmt::format("cannot connect to {}: {}", addr.ToString(), ec.message())));
          co_return;
        }
        done(std::make_shared<Channel>(std::move(*socket)));
      },
      asio::detached);
}

}  // namespace mr
