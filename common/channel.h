// Channel: one framed, full-duplex connection over TLS (common/tls.h), driven by Boost.Asio
// coroutines (the session pattern of Asio's chat_server example): the TLS handshake first, then a
// reader coroutine that decodes frames and hands each message to a callback and a writer coroutine
// fed by a queue; a watchdog on a TimerSource enforces the timeouts.
//
// Threading: a Channel lives on one executor. Start, Send, Close and the callbacks all run on that
// executor's thread; from another thread, asio::post to it first. The callbacks may call Send and
// Close. Ownership: shared; the coroutines keep the Channel alive until it is closed.
//
// TLS: a server-side channel first looks at the first byte: a TLS record goes on to the handshake;
// anything else is not an mr peer of this version (an HTTP request is answered by on_foreign, see
// OnForeignProtocol) and is closed. After the handshake, credential() says what the peer proved (a
// server side) and the server's proof is checked (a client side: a server that did not prove our
// key, or a certificate of our CA, is refused). A handshake that fails, and later any record that
// fails its integrity check (bytes injected or changed on the way), closes the connection, with
// refused() / integrity_failed() set and the reason passed to the close callback. Messages sent
// before the handshake completes wait for it.
//
// Resources (ChannelLimits, docs/protocol.md): a frame's buffer grows as its bytes arrive, so a
// header that declares 64 MiB and stalls costs what was sent, not 64 MiB. Until MarkAuthenticated
// a frame may hold at most `unauthenticated_max_frame` bytes. The TLS handshake, and a frame whose
// bytes stop arriving, are bounded by `frame_timeout`; an authenticated connection that receives
// no frame for `idle_timeout` is closed.
//
// Errors: an oversized (checked before reading the body), truncated, stalled or unparsable frame
// closes this connection only, with the reason passed to the close callback. An unparsable frame is
// answered with an ErrorReply naming it first, so a peer learns why. After authentication, with an
// OnBadFrame callback, an oversized frame (read and dropped) or an unparsable one is answered with
// an ErrorReply and given to the callback instead, and the connection stays open. A message to send
// whose `string` fields are not valid UTF-8 (common/frame.h) is sent with those bytes replaced, and
// logged: nothing a user or child process supplies can make the peer drop the connection.
#pragma once

#include "common/asio.h"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/credentials.h"
#include "common/frame.h"
#include "common/status.h"
#include "common/timer_source.h"
#include "common/tls.h"
#include "common/units.h"

namespace mr {

struct ChannelLimits {
  uint32_t max_frame = kDefaultMaxFrame;
  // Before MarkAuthenticated: a hello exchange needs well under 1 KiB.
  uint32_t unauthenticated_max_frame = 64u << 10;
  // The TLS handshake, and a frame (header or body) whose bytes stop arriving, are bounded by this
  // (0: no limit).
  std::chrono::milliseconds frame_timeout{30000};
  // An authenticated connection that receives no frame for this long is closed (0: no limit).
  std::chrono::milliseconds idle_timeout{0};

  // What servers accept: an idle timeout of 5 minutes (workers heartbeat and a waiting client
  // polls, so only abandoned connections reach it), frames stalled for 30 s.
  static ChannelLimits Server();
  // What a connecting side accepts: no idle limit (a peer may have nothing to say for long).
  static ChannelLimits Client();
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using MessageFn = std::function<void(proto::Envelope&)>;
  using CloseFn = std::function<void(const std::string& reason)>;

  // tls: shared by the process's connections (kept alive by the channel). timers: not owned, must
  // outlive the channel; nullptr = steady timers on the socket's executor.
  Channel(tcp::socket socket, std::shared_ptr<TlsContext> tls, TlsSide side,
          ChannelLimits limits = ChannelLimits::Client(), TimerSource* timers = nullptr);
  // What a read reports when the peer closed the connection.
  static constexpr const char* kPeerClosed = "peer closed the connection";
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Runs the TLS handshake, then the reader and writer. on_close is called once, when the
  // connection ends for any reason.
  void Start(MessageFn on_message, CloseFn on_close);
  void Send(const proto::Envelope& msg);
  void Send(std::string frame);  // an already encoded frame
  // Closes at once; queued frames are dropped. Idempotent.
  void Close(const std::string& reason);
  // Sends what is queued, then closes (for a last error reply).
  void CloseAfterFlush(const std::string& reason);
  bool closed() const { return closed_; }
  // A server side, before the handshake: a first byte that cannot begin a TLS record means the
  // peer speaks something else. The first four bytes are shown to `fn` (set before Start); bytes it
  // returns are sent (in the clear) before the connection closes (the RPC server answers an HTTP
  // request on its port that way).
  using ForeignFn = std::function<std::optional<std::string>(std::string_view first_bytes)>;
  void OnForeignProtocol(ForeignFn fn) { on_foreign_ = std::move(fn); }
  // After authentication, an oversized or unparsable frame is passed to `fn` (with why) instead of
  // closing the connection; the peer gets an ErrorReply. Set it from the message callback's thread.
  using BadFrameFn = std::function<void(const std::string& why)>;
  void OnBadFrame(BadFrameFn fn) { on_bad_frame_ = std::move(fn); }
  // The hello exchange succeeded: frames up to max_frame are accepted and the idle clock runs.
  void MarkAuthenticated();
  bool authenticated() const { return authenticated_; }
  // The TLS handshake completed (and, on a client side, the server proved itself).
  bool secured() const { return secured_; }
  // What the peer proved in the handshake (a server side; meaningful once secured()).
  const PeerCredential& credential() const { return credential_; }
  // The handshake failed: a credential was missing, wrong, or not proved.
  bool refused() const { return refused_; }
  // A record failed its integrity check after the handshake (bytes injected or altered).
  bool integrity_failed() const { return integrity_failed_; }
  // A client side's peer answered the TLS handshake with something else than TLS (an HTTP port).
  bool peer_not_tls() const { return peer_not_tls_; }
  // Closes the connection when sent data stays unacknowledged for `timeout` (TCP_USER_TIMEOUT), so
  // a peer that vanished without a word (a cut link) is noticed in bounded time.
  void SetUserTimeout(std::chrono::milliseconds timeout);
  const std::string& peer() const { return peer_; }
  // The IP addresses of the two ends ("10.0.0.7", "fd00::7"; "" if unknown).
  const std::string& remote_host() const { return remote_host_; }
  const std::string& local_host() const { return local_host_; }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  boost::asio::awaitable<void> Run();
  // A server side's look at the first bytes; false when the connection was closed.
  boost::asio::awaitable<bool> SniffTls();
  boost::asio::awaitable<bool> Handshake();
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<void> WriteLoop();
  // Reads exactly size bytes, noting progress for the frame timeout. Returns why it could not ("" when
  // it did; kPeerClosed when the peer closed the connection).
  boost::asio::awaitable<std::string> ReadSome(char* data, size_t size, size_t* got);
  // Some bytes (at most size) into data; *error says why none could be read.
  boost::asio::awaitable<size_t> ReadAny(char* data, size_t size, std::string* error);
  boost::asio::awaitable<std::string> WriteAll(const std::string& bytes);
  // Waits until the socket is readable (or writable).
  boost::asio::awaitable<bool> WaitFor(bool write);
  // Sets the timeout in force from now on (0 = none), arming the watchdog when it ends sooner.
  void SetTimeout(std::chrono::milliseconds timeout, const char* what);
  void ArmWatchdog(int64_t at_ms);
  void OnWatchdog(int64_t at_ms);
  // Answers a dropped frame with an ErrorReply and tells on_bad_frame_.
  void BadFrame(const std::string& why);

  tcp::socket socket_;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<TlsSession> session_;  // null in plaintext mode
  const TlsSide side_;
  const bool plaintext_;
  boost::asio::steady_timer wake_writer_;
  const ChannelLimits limits_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  bool authenticated_ = false;
  bool secured_ = false;
  bool refused_ = false;
  bool integrity_failed_ = false;
  bool peer_not_tls_ = false;
  PeerCredential credential_;
  bool in_frame_ = false;
  std::chrono::milliseconds timeout_{0};
  const char* timeout_what_ = "";
  int64_t last_progress_ms_ = 0;
  std::multiset<int64_t> armed_;  // due times of the watchdog checks in flight
  std::string peer_;
  std::string remote_host_;
  std::string local_host_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  MessageFn on_message_;
  CloseFn on_close_;
  ForeignFn on_foreign_;
  BadFrameFn on_bad_frame_;
  bool closed_ = false;
  bool close_after_flush_ = false;
  std::string close_reason_;
};

}  // namespace mr
