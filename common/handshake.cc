#include "common/handshake.h"

#include <algorithm>
#include <fmt/format.h>

namespace mr {

Status RoleAllowed(proto::Role role, const PeerCredential& peer) {
  switch (role) {
    case proto::ROLE_WORKER:
    case proto::ROLE_SHUFFLE:
      if (peer.cluster()) return Status::OK();
      return Status::PermissionDenied(fmt::format("role {} needs the cluster credential; a user token cannot take it",
                                                  proto::Role_Name(role)));
    case proto::ROLE_CLIENT:
      if (peer.kind != PeerCredential::Kind::kNone) return Status::OK();
      return Status::PermissionDenied(kAuthFailed);
    default:
      break;
  }
  return Status::Protocol(fmt::format("role {} is not served here", proto::Role_Name(role)));
}

proto::Envelope MakeHello(proto::Role role) {
  proto::Envelope e;
  e.mutable_hello()->set_protocol_version(kProtocolVersion);
  e.mutable_hello()->set_role(role);
  return e;
}

Status CheckHello(const proto::Envelope& msg, const std::vector<proto::Role>& served, const PeerCredential& peer,
                  proto::Role* role) {
  if (!msg.has_hello()) {
    return Status::Protocol(fmt::format("expected hello first, got {}", MessageName(msg)));
  }
  if (msg.hello().protocol_version() != kProtocolVersion) {
    return Status::Protocol(fmt::format("protocol version {} is not supported (this side speaks {})",
                                        msg.hello().protocol_version(), kProtocolVersion));
  }
  if (std::find(served.begin(), served.end(), msg.hello().role()) == served.end()) {
    return Status::Protocol(fmt::format("role {} is not served here", proto::Role_Name(msg.hello().role())));
  }
  MR_RETURN_IF_ERROR(RoleAllowed(msg.hello().role(), peer));
  *role = msg.hello().role();
  return Status::OK();
}

proto::Envelope MakeHelloReply(const Status& status) {
  proto::Envelope e;
  auto* r = e.mutable_hello_reply();
  r->set_ok(status.ok());
  if (!status.ok()) r->set_error(status.message());
  return e;
}

Status CheckHelloReply(const proto::Envelope& msg) {
  if (msg.has_error()) return Status::Aborted(msg.error().message());
  if (!msg.has_hello_reply()) {
    return Status::Protocol(fmt::format("expected hello_reply, got {}", MessageName(msg)));
  }
  if (!msg.hello_reply().ok()) {
    return Status::Aborted(msg.hello_reply().error().empty() ? "refused" : msg.hello_reply().error());
  }
  return Status::OK();
}

proto::Envelope MakeError(const std::string& message) {
  proto::Envelope e;
  e.mutable_error()->set_message(message);
  return e;
}

std::optional<std::string> HttpOnRpcPortReply(std::string_view first_bytes, const std::string& server,
                                              const std::string& http_address) {
  static constexpr std::string_view kMethods[] = {"GET ", "HEAD", "POST", "PUT ", "DELE", "OPTI", "PATC", "CONN", "TRAC"};
  if (std::find(std::begin(kMethods), std::end(kMethods), first_bytes.substr(0, 4)) == std::end(kMethods)) {
    return std::nullopt;
  }
  std::string body = fmt::format("this is the mr {}'s RPC port, which speaks TLS and framed protobuf (docs/protocol.md), "
                                 "not HTTP; ",
                                 server);
  body += http_address.empty() ? "HTTP, if it serves any, is on another port\n"
                               : fmt::format("its dashboard and HTTP API are at {}/\n", http_address);
  return fmt::format("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
                     "Connection: close\r\n\r\n{}",
                     body.size(), body);
}

}  // namespace mr
