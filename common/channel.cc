#include "common/channel.h"

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "common/log.h"
#include "common/tls.h"

namespace mr {
namespace {

// "::ffff:10.0.0.7" (an IPv4 peer of a dual-stack socket) is shown and advertised as 10.0.0.7.
std::string HostText(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return a.to_v6().to_v4().to_string();
  return a.to_string();
}

// The first byte of a TLS handshake record (RFC 8446 §5.1: ContentType handshake).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

}  // namespace

ChannelLimits ChannelLimits::Server() {
  ChannelLimits l;
  l.idle_timeout = std::chrono::minutes(5);
  return l;
}

ChannelLimits ChannelLimits::Client() {
  ChannelLimits l;
  l.unauthenticated_max_frame = l.max_frame;
  return l;
}

Channel::Channel(tcp::socket socket, std::shared_ptr<TlsContext> tls, TlsSide side, ChannelLimits limits,
                 TimerSource* timers)
    : socket_(std::move(socket)),
      tls_(std::move(tls)),
      side_(side),
      plaintext_(tls_->plaintext()),
      wake_writer_(socket_.get_executor()),
      limits_(limits) {
  if (timers == nullptr) {
    own_timers_ = std::make_unique<AsioTimerSource>(socket_.get_executor());
    timers = own_timers_.get();
  }
  timers_ = timers;
  tcp::socket& s = socket_;
  error_code ec;
  s.non_blocking(true, ec);  // OpenSSL reads and writes it directly, and must never block
  if (!plaintext_) session_ = std::make_unique<TlsSession>(*tls_, side_, s.native_handle());
  auto ep = s.remote_endpoint(ec);
  peer_ = ec ? "?" : HostPort{HostText(ep.address()), ep.port()}.ToString();
  if (!ec) remote_host_ = HostText(ep.address());
  auto local = s.local_endpoint(ec);
  if (!ec) local_host_ = HostText(local.address());
  s.set_option(tcp::no_delay(true), ec);
}

Channel::~Channel() = default;

void Channel::Start(MessageFn on_message, CloseFn on_close) {
  on_message_ = std::move(on_message);
  on_close_ = std::move(on_close);
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self] { return self->Run(); }, asio::detached);
}

asio::awaitable<void> Channel::Run() {
  auto self = shared_from_this();
  if (!plaintext_) {
    if (side_ == TlsSide::kServer && !co_await SniffTls()) co_return;
    if (!co_await Handshake()) co_return;
  } else {
    credential_ = tls_->ServerSidePeer(nullptr);
  }
  secured_ = true;
  asio::co_spawn(socket_.get_executor(), [self] { return self->WriteLoop(); }, asio::detached);
  co_await ReadLoop();
}

asio::awaitable<bool> Channel::SniffTls() {
  SetTimeout(limits_.frame_timeout, "TLS handshake");
  tcp::socket& s = socket_;
  error_code ec;
  co_await s.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  if (closed_) co_return false;
  unsigned char first = 0;
  ssize_t n = ec ? -1 : ::recv(s.native_handle(), &first, 1, MSG_PEEK);
  if (n <= 0) {
    Close(n == 0 ? kPeerClosed : "connection failed before the TLS handshake");
    co_return false;
  }
  if (first == kTlsHandshakeRecord) co_return true;
  // Not TLS: read the first bytes in the clear to say what it was.
  char head[kFrameHeaderSize];
  size_t got = 0;
  (void)co_await ReadSome(head, sizeof(head), &got);
  std::string_view bytes(head, got);
  if (on_foreign_) {
    if (auto reply = on_foreign_(bytes)) {
      co_await asio::async_write(s, asio::buffer(*reply), asio::redirect_error(asio::use_awaitable, ec));
      Close("not the mr protocol (an HTTP request)");
      co_return false;
    }
  }
  refused_ = true;
  Close("not a TLS connection (an mr of another version, or not mr at all)");
  co_return false;
}

asio::awaitable<bool> Channel::WaitFor(bool write) {
  error_code ec;
  co_await socket_.async_wait(write ? tcp::socket::wait_write : tcp::socket::wait_read,
                              asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && !closed_;
}

asio::awaitable<bool> Channel::Handshake() {
  SetTimeout(limits_.frame_timeout, "TLS handshake");
  TlsSession::Io io;
  while (true) {
    io = session_->Handshake();
    if (io.bytes > 0 || io.want == TlsSession::Want::kNothing) break;
    if (!co_await WaitFor(io.want == TlsSession::Want::kWrite)) co_return false;
  }
  if (closed_) co_return false;
  if (io.bytes == 0) {
    if (side_ == TlsSide::kClient && io.not_tls) {
      peer_not_tls_ = true;
      Close("the peer does not speak TLS");
      co_return false;
    }
    refused_ = io.tls_error;
    if (!refused_) Close(io.closed ? kPeerClosed : "connection failed during the TLS handshake: " + io.error);
    else if (side_ == TlsSide::kServer) Close(fmt::format("TLS handshake failed: {} (a missing or wrong token or certificate?)", io.error));
    else Close(fmt::format("TLS handshake failed: {}", io.error));
    co_return false;
  }
  if (side_ == TlsSide::kServer) {
    credential_ = tls_->ServerSidePeer(session_->ssl());
  } else if (Status st = tls_->CheckServer(session_->ssl()); !st.ok()) {
    refused_ = true;
    Close(st.message());
    co_return false;
  }
  SetTimeout(std::chrono::milliseconds(0), "idle");
  co_return true;
}

void Channel::MarkAuthenticated() {
  if (authenticated_) return;
  authenticated_ = true;
  if (!in_frame_) SetTimeout(limits_.idle_timeout, "idle");
}

void Channel::SetTimeout(std::chrono::milliseconds timeout, const char* what) {
  timeout_ = timeout;
  timeout_what_ = what;
  last_progress_ms_ = timers_->NowMs();
  if (timeout.count() <= 0 || closed_) return;
  // One check is due by the deadline: arm one only when none in flight comes first.
  const int64_t due = last_progress_ms_ + timeout.count();
  if (armed_.empty() || *armed_.begin() > due) ArmWatchdog(due);
}

void Channel::ArmWatchdog(int64_t at_ms) {
  armed_.insert(at_ms);
  std::weak_ptr<Channel> weak = weak_from_this();
  timers_->After(std::chrono::milliseconds(std::max<int64_t>(0, at_ms - timers_->NowMs())), [weak, at_ms] {
    if (auto self = weak.lock()) self->OnWatchdog(at_ms);
  });
}

void Channel::OnWatchdog(int64_t at_ms) {
  if (auto it = armed_.find(at_ms); it != armed_.end()) armed_.erase(it);
  if (closed_ || timeout_.count() <= 0) return;
  const int64_t due = last_progress_ms_ + timeout_.count();
  if (timers_->NowMs() >= due) {
    Close(std::string_view(timeout_what_) == "idle"
              ? fmt::format("idle for {} ms", timeout_.count())
              : fmt::format("{} stalled for {} ms", timeout_what_, timeout_.count()));
    return;
  }
  if (armed_.empty() || *armed_.begin() > due) ArmWatchdog(due);
}

asio::awaitable<size_t> Channel::ReadAny(char* data, size_t size, std::string* error) {
  if (plaintext_ || !secured_) {
    error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(data, size), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) *error = ec == asio::error::eof ? kPeerClosed : ec.message();
    co_return n;
  }
  while (true) {
    TlsSession::Io io = session_->Read(data, size);
    if (io.bytes > 0) co_return io.bytes;
    if (io.want != TlsSession::Want::kNothing) {
      if (!co_await WaitFor(io.want == TlsSession::Want::kWrite)) {
        *error = "closed";
        co_return 0;
      }
      continue;
    }
    if (io.tls_error) {
      integrity_failed_ = true;
      *error = fmt::format("TLS integrity error: {} (bytes injected or altered on the way?)", io.error);
    } else {
      *error = io.closed ? kPeerClosed : io.error;
    }
    co_return 0;
  }
}

asio::awaitable<std::string> Channel::WriteAll(const std::string& bytes) {
  if (plaintext_) {
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
    co_return ec ? ec.message() : "";
  }
  for (size_t off = 0; off < bytes.size();) {
    TlsSession::Io io = session_->Write(bytes.data() + off, bytes.size() - off);
    if (io.bytes > 0) {
      off += io.bytes;
      continue;
    }
    if (io.want != TlsSession::Want::kNothing) {
      if (!co_await WaitFor(io.want == TlsSession::Want::kWrite)) co_return "closed";
      continue;
    }
    co_return io.closed ? kPeerClosed : io.error;
  }
  co_return "";
}

asio::awaitable<std::string> Channel::ReadSome(char* data, size_t size, size_t* got) {
  *got = 0;
  while (*got < size) {
    std::string error;
    size_t n = co_await ReadAny(data + *got, size - *got, &error);
    *got += n;
    if (!error.empty()) co_return error;
    if (secured_ && !in_frame_) {
      in_frame_ = true;
      SetTimeout(limits_.frame_timeout, "frame");
    } else {
      last_progress_ms_ = timers_->NowMs();
    }
  }
  co_return "";
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
    self->on_foreign_ = nullptr;
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
  if (!secured_) {  // nothing can be sent before the handshake
    Close(reason);
    return;
  }
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
    std::string error = co_await ReadSome(header, kFrameHeaderSize, &n);
    if (closed_) co_return;
    if (!error.empty()) {
      Close(n > 0 && error == kPeerClosed ? "truncated frame header" : error);
      co_return;
    }
    const uint32_t len = DecodeFrameLength(header);
    const uint32_t limit = authenticated_ ? limits_.max_frame : limits_.unauthenticated_max_frame;
    if (len > limit) {
      if (plaintext_ && !authenticated_ && on_foreign_) {
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
        error = co_await ReadSome(scratch.data(), step, &n);
        if (closed_) co_return;
        if (!error.empty()) {
          Close(fmt::format("truncated frame ({} of {} bytes): {}", len - left + n, len, error));
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
      error = co_await ReadSome(body.data() + have, step, &n);
      have += n;
      if (closed_) co_return;
      if (!error.empty()) {
        Close(fmt::format("truncated frame ({} of {} bytes): {}", have, len, error));
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
    std::string error = co_await WriteAll(queue_.front());
    if (closed_) co_return;  // closed while the write completed
    if (!error.empty()) {
      Close("write failed: " + error);
      co_return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
  }
}

}  // namespace mr
