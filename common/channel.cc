#include "common/channel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "common/acceptor.h"

namespace mr {
namespace {

// "::ffff:10.0.0.7" (an IPv4 peer of a dual-stack socket) is shown and advertised as 10.0.0.7.
std::string HostText(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return a.to_v6().to_v4().to_string();
  return a.to_string();
}

}  // namespace

Channel::Channel(tcp::socket socket, uint32_t max_frame)
    : socket_(std::move(socket)), wake_writer_(socket_.get_executor()), max_frame_(max_frame) {
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
}

void Channel::SetUserTimeout(std::chrono::milliseconds timeout) {
  unsigned int ms = static_cast<unsigned int>(timeout.count());
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
}

void Channel::Send(const proto::Envelope& msg) { Send(EncodeFrame(msg)); }

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
  // The queue is left alone: a write of its front may still be completing. It goes with the
  // channel.
  // The callbacks run later, never inside the caller's frame, and are dropped after that so that
  // captures which point back at this channel are released.
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self, reason] {
    if (self->on_close_) self->on_close_(reason);
    self->on_close_ = nullptr;
    self->on_message_ = nullptr;
  });
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
  std::string body;
  while (!closed_) {
    error_code ec;
    size_t n = co_await asio::async_read(socket_, asio::buffer(header, kFrameHeaderSize),
                                         asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::eof && n == 0) Close("peer closed the connection");
      else if (ec == asio::error::eof) Close("truncated frame header");
      else Close(ec.message());
      co_return;
    }
    uint32_t len = DecodeFrameLength(header);
    if (len > max_frame_) {
      Close(fmt::format("frame of {} bytes exceeds the limit of {} bytes", len, max_frame_));
      co_return;
    }
    body.resize(len);
    co_await asio::async_read(socket_, asio::buffer(body),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      Close(fmt::format("truncated frame ({} of {} bytes): {}", body.size(), len, ec.message()));
      co_return;
    }
    auto msg = DecodeFrameBody(body);
    if (!msg.ok()) {
      Close(msg.status().message());
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

Listener::Listener(tcp::acceptor acceptor, uint32_t max_frame)
    : acceptor_(std::move(acceptor)), max_frame_(max_frame) {
  auto ep = acceptor_.local_endpoint();
  host_ = ep.address().to_string();
  port_ = ep.port();
}

Result<std::shared_ptr<Listener>> Listener::Bind(asio::io_context& io, const HostPort& addr,
                                                 uint32_t max_frame) {
  auto acceptor = Listen(io, addr);
  if (!acceptor.ok()) return acceptor.status();
  return std::shared_ptr<Listener>(new Listener(std::move(*acceptor), max_frame));
}

void Listener::Start(AcceptFn on_accept) {
  on_accept_ = std::move(on_accept);
  auto self = shared_from_this();
  asio::co_spawn(acceptor_.get_executor(),
                 AcceptLoop(acceptor_, [self](tcp::socket socket) {
                   self->on_accept_(std::make_shared<Channel>(std::move(socket), self->max_frame_));
                 }),
                 asio::detached);
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
