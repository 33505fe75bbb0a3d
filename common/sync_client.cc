#include "common/sync_client.h"

#include <exception>

#include <boost/system/system_error.hpp>

#include <fmt/format.h>

#include "common/channel.h"
#include "common/rpc_client.h"

namespace mr {

SyncClient::~SyncClient() {
  if (channel_) channel_->Close("client done");
  io_.restart();
  io_.poll();  // let the channel's coroutines end before the io_context goes
}

Status SyncClient::RunUntil(const std::function<bool()>& done, Millis timeout, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  io_.restart();
  while (!done()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= Millis(0)) {
      if (channel_) channel_->Close("timed out");
      closed_ = true;
      closed_reason_ = "timed out";
      io_.restart();
      io_.poll();
      return Status::Unavailable(fmt::format("{} {} timed out after {} ms", what, address_, timeout.count()));
    }
    if (io_.run_one_for(std::chrono::duration_cast<Millis>(left) + Millis(1)) == 0 && io_.stopped()) io_.restart();
  }
  return Status::OK();
}

Status SyncClient::Broken() const {
  if (closed_reason_ == Channel::kPeerClosed) {
    return Status::Unavailable(fmt::format("{} closed the connection", address_));
  }
  return Status::Unavailable(fmt::format("connection to {} lost: {}", address_, closed_reason_));
}

Result<std::unique_ptr<SyncClient>> SyncClient::Connect(const HostPort& addr, proto::Role role,
                                                        std::shared_ptr<TlsContext> tls, Millis timeout,
                                                        uint32_t max_frame) {
  std::unique_ptr<SyncClient> c;
  try {
    c.reset(new SyncClient());  // its io_context needs descriptors (epoll, eventfd)
  } catch (const boost::system::system_error& e) {  // EMFILE, say
    return ConnectError(addr, e.code());
  } catch (const std::exception& e) {
    return Status::Unavailable(fmt::format("cannot connect to {}: {}", addr.ToString(), e.what()));
  }
  c->address_ = addr.ToString();
  SyncClient* self = c.get();
  std::optional<Status> outcome;
  ConnectOptions options;
  options.timeout = timeout;
  options.limits.max_frame = options.limits.unauthenticated_max_frame = max_frame;
  ConnectRpc(
      c->io_, addr, std::move(tls), role,
      [self, &outcome](Result<std::shared_ptr<Channel>> r) -> ChannelHandlers {
        if (!r.ok()) {
          outcome = r.status();
          return {};
        }
        self->channel_ = *r;
        outcome = Status::OK();
        return {[self](proto::Envelope& m) { self->inbox_.push_back(std::move(m)); },
                [self](const std::string& reason) {
                  self->closed_ = true;
                  self->closed_reason_ = reason;
                }};
      },
      options);
  Status ran = c->RunUntil([&] { return outcome.has_value(); }, timeout + Millis(100), "connecting to");
  if (!ran.ok()) return ran;
  if (!outcome->ok()) {
    if (outcome->code() == Status::Code::kAborted) {
      return Status::Aborted(fmt::format("{} refused the connection: {}", c->address_, outcome->message()));
    }
    return *outcome;
  }
  return c;
}

Status SyncClient::Send(const proto::Envelope& msg, Millis timeout) {
  if (closed_) return Broken();
  // Refused here, with the field named, rather than sent for the peer to fail parsing.
  MR_RETURN_IF_ERROR(CheckSendable(msg));
  channel_->Send(msg);
  MR_RETURN_IF_ERROR(RunUntil([this] { return closed_ || channel_->queued_bytes() == 0; }, timeout, "writing to"));
  if (closed_) return Broken();
  return Status::OK();
}

Result<proto::Envelope> SyncClient::Receive(Millis timeout) {
  if (inbox_.empty()) {
    if (closed_) return Broken();
    MR_RETURN_IF_ERROR(RunUntil([this] { return closed_ || !inbox_.empty(); }, timeout, "reading from"));
  }
  if (inbox_.empty()) return Broken();
  proto::Envelope m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

Result<proto::Envelope> SyncClient::Call(const proto::Envelope& msg, Millis timeout) {
  MR_RETURN_IF_ERROR(Send(msg, timeout));
  auto reply = Receive(timeout);
  if (reply.ok() && reply->has_error()) return Status::Aborted(reply->error().message());
  return reply;
}

void SyncClient::Shutdown() {
  std::shared_ptr<Channel> ch = channel_;
  if (ch) asio::post(io_, [ch] { ch->Close("shut down"); });
}

}  // namespace mr
