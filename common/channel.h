// Channel: one framed, full-duplex TCP connection driven by Boost.Asio coroutines (the session
// pattern of Asio's chat_server example): a reader coroutine that decodes frames and hands each
// message to a callback, a writer coroutine fed by a queue, and a watchdog for the timeouts.
//
// Threading: a Channel lives on one executor. Start, Send, Close and the callbacks all run on that
// executor's thread; from another thread, asio::post to it first. The callbacks may call Send and
// Close. Ownership: shared; the coroutines keep the Channel alive until it is closed.
//
// Resources (ChannelLimits, docs/protocol.md): a frame's buffer grows as its bytes arrive, so a
// header that declares 64 MiB and stalls costs what was sent, not 64 MiB. Until MarkAuthenticated
// a frame may hold at most `unauthenticated_max_frame` bytes. A frame whose bytes stop arriving for
// `frame_timeout` closes the connection; so does an authenticated connection that receives no frame
// for `idle_timeout`.
//
// Errors: an oversized (checked before reading the body), truncated, stalled or unparsable frame
// closes this connection only, with the reason passed to the close callback. An unparsable frame is
// answered with an ErrorReply naming it first, so a peer learns why. After authentication, with an
// OnBadFrame callback, an oversized frame (read and dropped) or an unparsable one is answered with
// an ErrorReply and given to the callback instead, and the connection stays open. A message to send whose
// `string` fields are not valid UTF-8 (common/frame.h) is sent with those bytes replaced, and logged:
// nothing a user or child process supplies can make the peer drop the connection.
#pragma once

#include "common/asio.h"
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <memory>
#include <string>

#include "common/frame.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

struct ChannelLimits {
  uint32_t max_frame = kDefaultMaxFrame;
  // Before MarkAuthenticated: a hello exchange needs well under 1 KiB.
  uint32_t unauthenticated_max_frame = 64u << 10;
  // A frame (header or body) whose bytes stop arriving for this long closes the connection (0: no limit).
  std::chrono::milliseconds frame_timeout{30000};
  // An authenticated connection that receives no frame for this long is closed (0: no limit).
  std::chrono::milliseconds idle_timeout{0};

  // What servers accept: an idle timeout of 5 minutes ($MR_IDLE_TIMEOUT_MS; workers heartbeat and a
  // waiting client polls, so only abandoned connections reach it), frames stalled for 30 s
  // ($MR_FRAME_TIMEOUT_MS).
  static ChannelLimits Server();
  // What a connecting side accepts: no idle limit (a peer may have nothing to say for long), and
  // no limit before authentication (the server does not authenticate to a client without a token).
  static ChannelLimits Client();
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using MessageFn = std::function<void(proto::Envelope&)>;
  using CloseFn = std::function<void(const std::string& reason)>;

  explicit Channel(boost::asio::ip::tcp::socket socket, ChannelLimits limits = ChannelLimits::Client());
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Starts the reader and writer. on_close is called once, when the connection ends for any reason.
  void Start(MessageFn on_message, CloseFn on_close);
  void Send(const proto::Envelope& msg);
  void Send(std::string frame);  // an already encoded frame
  // Closes at once; queued frames are dropped. Idempotent.
  void Close(const std::string& reason);
  // Sends what is queued, then closes (for a last error reply).
  void CloseAfterFlush(const std::string& reason);
  bool closed() const { return closed_; }
  // Before authentication, the first bytes of a frame header that declares more than the limit are
  // shown to `fn` (set before Start); bytes it returns are sent before the connection closes (the
  // hello gate answers an HTTP request on an RPC port that way).
  using ForeignFn = std::function<std::optional<std::string>(std::string_view header)>;
  void OnForeignProtocol(ForeignFn fn) { on_foreign_ = std::move(fn); }
  // After authentication, an oversized or unparsable frame is passed to `fn` (with why) instead of
  // closing the connection; the peer gets an ErrorReply. Set it from the message callback's thread.
  using BadFrameFn = std::function<void(const std::string& why)>;
  void OnBadFrame(BadFrameFn fn) { on_bad_frame_ = std::move(fn); }
  // The hello exchange succeeded: frames up to max_frame are accepted and the idle clock runs.
  void MarkAuthenticated();
  bool authenticated() const { return authenticated_; }
  // Closes the connection when sent data stays unacknowledged for `timeout` (TCP_USER_TIMEOUT), so
  // a peer that vanished without a word (a cut link) is noticed in bounded time.
  void SetUserTimeout(std::chrono::milliseconds timeout);
  const std::string& peer() const { return peer_; }
  // The IP addresses of the two ends ("10.0.0.7", "fd00::7"; "" if unknown).
  const std::string& remote_host() const { return remote_host_; }
  const std::string& local_host() const { return local_host_; }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<void> WriteLoop();
  boost::asio::awaitable<void> Watchdog();
  // Reads exactly buf.size() bytes, noting progress for the frame timeout.
  boost::asio::awaitable<boost::system::error_code> ReadSome(char* data, size_t size, size_t* got);
  // Sets the timeout in force from now on ({} = none), waking the watchdog when it ends sooner.
  void SetTimeout(std::chrono::milliseconds timeout, const char* what);
  // Answers a dropped frame with an ErrorReply and tells on_bad_frame_.
  void BadFrame(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer wake_writer_;
  boost::asio::steady_timer watchdog_;
  const ChannelLimits limits_;
  bool authenticated_ = false;
  bool in_frame_ = false;
  std::chrono::milliseconds timeout_{0};
  const char* timeout_what_ = "";
  std::chrono::steady_clock::time_point last_progress_;
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

// Listener: accepts connections on an address and hands each, as a started-later Channel, to a
// callback on the io_context's thread. Bind with port 0 picks a free port; port() reports it.
//
// Connection slots are budgeted: at most max_unauthenticated() accepted connections wait for their
// hello exchange (MarkAuthenticated) at once -- $MR_MAX_PENDING_CONNECTIONS (1024), and at most a
// quarter of the open-files limit, so that a flood of silent connections cannot use up the
// descriptors that authenticated peers and files need. At the budget, the oldest waiting connection
// is closed to make room once it has waited kHelloGrace; until then accepting pauses (new
// connections wait in the kernel's backlog), so a burst of reconnecting workers is served in order
// rather than evicted wholesale. Out of descriptors (EMFILE/ENFILE), the oldest waiting connection
// is closed once it has waited kFdGrace (a real peer's hello takes a round trip) and accepting goes
// on; with none to close, accepting backs off and retries (common/acceptor.h).
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using AcceptFn = std::function<void(std::shared_ptr<Channel>)>;
  static constexpr std::chrono::milliseconds kHelloGrace{1000};
  static constexpr std::chrono::milliseconds kFdGrace{100};
  static Result<std::shared_ptr<Listener>> Bind(boost::asio::io_context& io, const HostPort& addr,
                                                ChannelLimits limits = ChannelLimits::Server());
  void Start(AcceptFn on_accept);
  void Stop();
  uint16_t port() const { return port_; }
  HostPort address() const { return {host_, port_}; }
  size_t max_unauthenticated() const { return max_unauthenticated_; }
  // Accepted connections not yet authenticated nor closed.
  size_t unauthenticated();

 private:
  explicit Listener(boost::asio::ip::tcp::acceptor acceptor, ChannelLimits limits);
  boost::asio::awaitable<void> Run();
  // Closes the oldest connection still waiting for its hello if it has waited at least min_age;
  // true when one was closed.
  bool CloseOldestUnauthenticated(std::chrono::milliseconds min_age, const char* why);

  struct Waiting {
    std::weak_ptr<Channel> channel;
    std::chrono::steady_clock::time_point since;
  };
  boost::asio::ip::tcp::acceptor acceptor_;
  ChannelLimits limits_;
  size_t max_unauthenticated_;
  std::deque<Waiting> waiting_;  // accept order
  uint64_t evicted_ = 0;
  std::string host_;
  uint16_t port_ = 0;
  AcceptFn on_accept_;
};

// Connects (asynchronously, on io's thread) and calls done(channel or error), an error after
// `timeout` at the latest. The channel is not started yet.
void AsyncConnect(boost::asio::io_context& io, const HostPort& addr,
                  std::function<void(Result<std::shared_ptr<Channel>>)> done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace mr
