#include "common/handshake.h"

#include <algorithm>
#include <fmt/format.h>

namespace mr {

Status CheckHello(const proto::Envelope& msg, std::initializer_list<proto::Role> allowed,
                  proto::Role* role) {
  if (!msg.has_hello()) {
    return Status::Protocol(fmt::format("expected hello first, got {}", MessageName(msg)));
  }
  if (msg.hello().protocol_version() != kProtocolVersion) {
    return Status::Protocol(fmt::format("protocol version {} is not supported (this side speaks {})",
                                        msg.hello().protocol_version(), kProtocolVersion));
  }
  if (std::find(allowed.begin(), allowed.end(), msg.hello().role()) == allowed.end()) {
    return Status::Protocol(fmt::format("role {} is not served here",
                                        proto::Role_Name(msg.hello().role())));
  }
  *role = msg.hello().role();
  return Status::OK();
}

proto::Envelope MakeHelloReply(const Status& status) {
  proto::Envelope e;
  auto* r = e.mutable_hello_reply();
  r->set_ok(status.ok());
  r->set_protocol_version(kProtocolVersion);
  if (!status.ok()) r->set_error(status.message());
  return e;
}

proto::Envelope MakeError(const std::string& message) {
  proto::Envelope e;
  e.mutable_error()->set_message(message);
  return e;
}

}  // namespace mr
