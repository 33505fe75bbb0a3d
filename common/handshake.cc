#include "common/handshake.h"

#include <algorithm>
#include <fmt/format.h>

#include "common/auth.h"

namespace mr {
namespace {

std::string ProofInput(const char* label, proto::Role role, const std::string& client_nonce,
                       const std::string& server_nonce) {
  std::string s = label;
  uint32_t r = static_cast<uint32_t>(role);
  for (int i = 3; i >= 0; i--) s.push_back(static_cast<char>((r >> (8 * i)) & 0xff));
  // Nonce lengths are fixed by the check on each side, but length-prefix anyway.
  for (const std::string* n : {&client_nonce, &server_nonce}) {
    s.push_back(static_cast<char>(n->size()));
    s += *n;
  }
  return s;
}

}  // namespace

std::string ClientProof(const std::string& token, proto::Role role, const std::string& client_nonce,
                        const std::string& server_nonce) {
  return HmacSha256(token, ProofInput("mr-v1 client", role, client_nonce, server_nonce));
}

std::string ServerProof(const std::string& token, proto::Role role, const std::string& client_nonce,
                        const std::string& server_nonce) {
  return HmacSha256(token, ProofInput("mr-v1 server", role, client_nonce, server_nonce));
}

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
  size_t n = msg.hello().client_nonce().size();
  if (n < kMinNonceBytes || n > kMaxNonceBytes) {
    return Status::Protocol(fmt::format("hello with a client nonce of {} bytes (want {}..{})", n,
                                        kMinNonceBytes, kMaxNonceBytes));
  }
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

proto::Envelope MakeError(const std::string& message) {
  proto::Envelope e;
  e.mutable_error()->set_message(message);
  return e;
}

Status ServerHandshake::OnMessage(const proto::Envelope& msg, proto::Envelope* reply) {
  switch (stage_) {
    case Stage::kHello: {
      std::initializer_list<proto::Role> all = {proto::ROLE_CLIENT, proto::ROLE_WORKER, proto::ROLE_SHUFFLE};
      proto::Role role = proto::ROLE_UNSPECIFIED;
      Status st = CheckHello(msg, all, &role);
      if (st.ok() && std::find(allowed_.begin(), allowed_.end(), role) == allowed_.end()) {
        st = Status::Protocol(fmt::format("role {} is not served here", proto::Role_Name(role)));
      }
      if (!st.ok()) {
        stage_ = Stage::kFailed;
        *reply = MakeHelloReply(st);
        return st;
      }
      role_ = role;
      client_nonce_ = msg.hello().client_nonce();
      server_nonce_ = RandomBytes(kNonceBytes);
      reply->Clear();
      auto* c = reply->mutable_auth_challenge();
      c->set_server_nonce(server_nonce_);
      c->set_auth_required(!token_.empty());
      if (!token_.empty()) c->set_server_proof(ServerProof(token_, role_, client_nonce_, server_nonce_));
      stage_ = Stage::kProof;
      return Status::OK();
    }
    case Stage::kProof: {
      if (!msg.has_auth_response()) {
        stage_ = Stage::kFailed;
        Status st = Status::Protocol(fmt::format("expected auth_response, got {}", MessageName(msg)));
        *reply = MakeHelloReply(st);
        return st;
      }
      if (!token_.empty() &&
          !ConstantTimeEquals(msg.auth_response().proof(), ClientProof(token_, role_, client_nonce_, server_nonce_))) {
        stage_ = Stage::kFailed;
        *reply = MakeHelloReply(Status::Unavailable(kAuthFailed));
        return Status::Unavailable(fmt::format("{}: wrong or missing cluster token ({} client)", kAuthFailed,
                                               proto::Role_Name(role_)));
      }
      stage_ = Stage::kDone;
      *reply = MakeHelloReply(Status::OK());
      return Status::OK();
    }
    case Stage::kDone:
    case Stage::kFailed:
      break;
  }
  stage_ = Stage::kFailed;
  *reply = MakeHelloReply(Status::Protocol("handshake already over"));
  return Status::Protocol(fmt::format("unexpected {} after the handshake", MessageName(msg)));
}

proto::Envelope ClientHandshake::Hello() {
  client_nonce_ = RandomBytes(kNonceBytes);
  proto::Envelope e;
  e.mutable_hello()->set_protocol_version(kProtocolVersion);
  e.mutable_hello()->set_role(role_);
  e.mutable_hello()->set_client_nonce(client_nonce_);
  return e;
}

Result<proto::Envelope> ClientHandshake::OnChallenge(const proto::Envelope& msg) {
  if (msg.has_hello_reply()) {
    // Refused at the hello already (wrong version or role).
    return Status::Aborted(msg.hello_reply().error().empty() ? "refused" : msg.hello_reply().error());
  }
  if (!msg.has_auth_challenge()) {
    return Status::Protocol(fmt::format("expected auth_challenge, got {}", MessageName(msg)));
  }
  const auto& c = msg.auth_challenge();
  size_t n = c.server_nonce().size();
  if (n < kMinNonceBytes || n > kMaxNonceBytes) {
    return Status::Protocol(fmt::format("auth_challenge with a server nonce of {} bytes", n));
  }
  // A server that fails to prove it holds our token still gets our proof (an HMAC over its fresh
  // nonce and ours, useless elsewhere), so that a wrong token is refused, and logged, by the server;
  // but its HelloReply is not believed (OnReply).
  server_error_.clear();
  if (!token_.empty() &&
      !ConstantTimeEquals(c.server_proof(), ServerProof(token_, role_, client_nonce_, c.server_nonce()))) {
    server_error_ = c.auth_required()
                        ? "the server could not prove it holds the cluster token (a different token?)"
                        : "the server runs without a cluster token, but this side has one";
  }
  proto::Envelope e;
  e.mutable_auth_response()->set_proof(ClientProof(token_, role_, client_nonce_, c.server_nonce()));
  return e;
}

Status ClientHandshake::OnReply(const proto::Envelope& msg) {
  if (!msg.has_hello_reply()) {
    return Status::Protocol(fmt::format("expected hello_reply, got {}", MessageName(msg)));
  }
  if (!msg.hello_reply().ok()) {
    return Status::Aborted(msg.hello_reply().error().empty() ? "refused" : msg.hello_reply().error());
  }
  if (!server_error_.empty()) return Status::Aborted(server_error_);
  return Status::OK();
}

std::optional<std::string> HttpOnRpcPortReply(std::string_view first_bytes, const std::string& server,
                                              const std::string& http_address) {
  static constexpr std::string_view kMethods[] = {"GET ", "HEAD", "POST", "PUT ", "DELE", "OPTI", "PATC", "CONN", "TRAC"};
  if (std::find(std::begin(kMethods), std::end(kMethods), first_bytes.substr(0, 4)) == std::end(kMethods)) {
    return std::nullopt;
  }
  std::string body = fmt::format("this is the mr {}'s RPC port, which speaks framed protobuf (docs/protocol.md), not HTTP; ",
                                 server);
  body += http_address.empty() ? "HTTP, if it serves any, is on another port\n"
                               : fmt::format("its dashboard and HTTP API are at http://{}/\n", http_address);
  return fmt::format("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
                     "Connection: close\r\n\r\n{}",
                     body.size(), body);
}

}  // namespace mr
