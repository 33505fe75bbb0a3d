// Channel: one framed, full-duplex TCP connection driven by Boost.Asio coroutines (the session
// pattern of Asio's chat_server example): a reader coroutine that decodes frames and hands each
// message to a callback, and a writer coroutine fed by a queue.
//
// Threading: a Channel lives on one executor. Start, Send, Close and the callbacks all run on that
// executor's thread; from another thread, asio::post to it first. The callbacks may call Send and
// Close. Ownership: shared; the coroutines keep the Channel alive until it is closed.
//
// Errors: an oversized (over max_frame, checked before allocating), truncated or unparsable frame
// closes this connection only, with the reason passed to the close callback.
#pragma once

#include "common/asio.h"
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/frame.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  using MessageFn = std::function<void(proto::Envelope&)>;
  using CloseFn = std::function<void(const std::string& reason)>;

  Channel(boost::asio::ip::tcp::socket socket, uint32_t max_frame = kDefaultMaxFrame);
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

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer wake_writer_;
  const uint32_t max_frame_;
  std::string peer_;
  std::string remote_host_;
  std::string local_host_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  MessageFn on_message_;
  CloseFn on_close_;
  bool closed_ = false;
  bool close_after_flush_ = false;
  std::string close_reason_;
};

// Listener: accepts connections on an address and hands each, as a started-later Channel, to a
// callback on the io_context's thread. Bind with port 0 picks a free port; port() reports it.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using AcceptFn = std::function<void(std::shared_ptr<Channel>)>;
  static Result<std::shared_ptr<Listener>> Bind(boost::asio::io_context& io, const HostPort& addr,
                                                uint32_t max_frame = kDefaultMaxFrame);
  void Start(AcceptFn on_accept);
  void Stop();
  uint16_t port() const { return port_; }
  HostPort address() const { return {host_, port_}; }

 private:
  explicit Listener(boost::asio::ip::tcp::acceptor acceptor, uint32_t max_frame);

  boost::asio::ip::tcp::acceptor acceptor_;
  uint32_t max_frame_;
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
