#include "common/sync_client.h"

#include <sys/socket.h>

#include <exception>

#include <boost/asio/connect.hpp>
#include <fmt/format.h>

#include "common/handshake.h"

namespace mr {

Status SyncClient::RunUntil(const bool& done, Millis timeout, const char* what) {
  io_.restart();
  io_.run_for(timeout);
  if (done) return Status::OK();
  broken_ = true;
  error_code ec;
  socket_.close(ec);
  io_.restart();
  io_.run();  // let the cancelled operation complete
  return Status::Unavailable(fmt::format("{} {} timed out after {} ms", what, address_, timeout.count()));
}

Result<std::unique_ptr<SyncClient>> SyncClient::Connect(const HostPort& addr, proto::Role role,
                                                        const std::string& token, Millis timeout,
                                                        uint32_t max_frame) {
  std::unique_ptr<SyncClient> c;
  try {
    c.reset(new SyncClient(max_frame));  // its io_context needs descriptors (epoll, eventfd)
  } catch (const std::exception& e) {  // boost::system::system_error, e.g. EMFILE
    return Status::Unavailable(fmt::format("cannot connect to {}: {}", addr.ToString(), e.what()));
  }
  c->address_ = addr.ToString();
  error_code ec;
  tcp::resolver resolver(c->io_);
  auto endpoints = resolver.resolve(addr.host, std::to_string(addr.port), ec);
  if (ec) return Status::Unavailable(fmt::format("cannot resolve {}: {}", addr.host, ec.message()));
  bool done = false;
  error_code connect_ec;
  asio::async_connect(c->socket_, endpoints, [&](const error_code& e, const tcp::endpoint&) {
    connect_ec = e;
    done = true;
  });
  MR_RETURN_IF_ERROR(c->RunUntil(done, timeout, "connecting to"));
  if (connect_ec) {
    return Status::Unavailable(fmt::format("cannot connect to {}: {}", c->address_, connect_ec.message()));
  }
  c->socket_.set_option(tcp::no_delay(true), ec);

  ClientHandshake hs(token, role);
  auto challenge = c->Call(hs.Hello(), timeout);
  if (!challenge.ok()) return challenge.status();
  auto refused = [&](const Status& st) {
    if (st.code() != Status::Code::kAborted) return st;
    std::string why = st.message();
    if (why == kAuthFailed && token.empty()) why += " (no cluster token given: use --token-file or MR_TOKEN)";
    c->broken_ = true;
    return Status::Aborted(fmt::format("{} refused the connection: {}", c->address_, why));
  };
  auto response = hs.OnChallenge(*challenge);
  if (!response.ok()) return refused(response.status());
  auto reply = c->Call(*response, timeout);
  if (!reply.ok()) return reply.status();
  Status st = hs.OnReply(*reply);
  if (!st.ok() && reply->has_hello_reply() && reply->hello_reply().ok()) {
    c->broken_ = true;
    return Status::Aborted(fmt::format("not talking to {}: {}", c->address_, st.message()));
  }
  if (!st.ok()) return refused(st);
  return c;
}

Status SyncClient::Send(const proto::Envelope& msg, Millis timeout) {
  if (broken_) return Status::Unavailable("connection to " + address_ + " is closed");
  // Refused here, with the field named, rather than sent for the peer to fail parsing.
  MR_RETURN_IF_ERROR(CheckSendable(msg));
  std::string frame = EncodeFrame(msg);
  bool done = false;
  error_code ec;
  asio::async_write(socket_, asio::buffer(frame), [&](const error_code& e, size_t) {
    ec = e;
    done = true;
  });
  MR_RETURN_IF_ERROR(RunUntil(done, timeout, "writing to"));
  if (ec) {
    broken_ = true;
    return Status::Unavailable(fmt::format("connection to {} lost: {}", address_, ec.message()));
  }
  return Status::OK();
}

Result<proto::Envelope> SyncClient::Receive(Millis timeout) {
  if (broken_) return Status::Unavailable("connection to " + address_ + " is closed");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()));
  };
  char header[kFrameHeaderSize];
  bool done = false;
  error_code ec;
  asio::async_read(socket_, asio::buffer(header), [&](const error_code& e, size_t) {
    ec = e;
    done = true;
  });
  MR_RETURN_IF_ERROR(RunUntil(done, left(), "reading from"));
  if (ec) {
    broken_ = true;
    if (ec == asio::error::eof) return Status::Unavailable(fmt::format("{} closed the connection", address_));
    return Status::Unavailable(fmt::format("connection to {} lost: {}", address_, ec.message()));
  }
  if (std::string_view(header, 4) == "HTTP") {  // an HTTP server's "HTTP/1.1 400 ...", not a frame
    broken_ = true;
    return Status::Protocol(fmt::format(
        "{} answered in HTTP: it is a web port (a master's --http dashboard?), not an mr RPC port "
        "(the master's --listen address, default port 7070)", address_));
  }
  uint32_t len = DecodeFrameLength(header);
  if (len > max_frame_) {
    broken_ = true;
    return Status::Protocol(fmt::format("frame of {} bytes from {} exceeds the limit", len, address_));
  }
  std::string body;  // grows as the bytes arrive (common/frame.h)
  for (size_t have = 0; have < len;) {
    const size_t step = NextFrameStep(have, len);
    body.resize(have + step);
    done = false;
    asio::async_read(socket_, asio::buffer(body.data() + have, step), [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
    MR_RETURN_IF_ERROR(RunUntil(done, left(), "reading from"));
    if (ec) {
      broken_ = true;
      return Status::Unavailable(fmt::format("truncated frame from {}: {}", address_, ec.message()));
    }
    have += step;
  }
  auto msg = DecodeFrameBody(body);
  if (!msg.ok()) broken_ = true;
  return msg;
}

Result<proto::Envelope> SyncClient::Call(const proto::Envelope& msg, Millis timeout) {
  MR_RETURN_IF_ERROR(Send(msg, timeout));
  auto reply = Receive(timeout);
  if (reply.ok() && reply->has_error()) return Status::Aborted(reply->error().message());
  return reply;
}

void SyncClient::Shutdown() {
  // The OS call, not the asio one: it is safe while another thread is inside a read on the socket.
  if (socket_.is_open()) ::shutdown(socket_.native_handle(), SHUT_RDWR);
}

}  // namespace mr
