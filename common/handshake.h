// The hello exchange that opens every connection (DESIGN §6, docs/protocol.md):
//   client -> Hello{protocol_version, role, client_nonce}
//   server -> AuthChallenge{server_nonce, auth_required, server_proof}
//   client -> AuthResponse{proof}
//   server -> HelloReply{ok, error}
// proof        = HMAC-SHA256(token, "mr-v1 client" | u32 role | client_nonce | server_nonce)
// server_proof = HMAC-SHA256(token, "mr-v1 server" | u32 role | client_nonce | server_nonce)
// Both nonces are fresh per connection, so a recorded exchange cannot be replayed on another one.
// A server without a token accepts any proof (it serves loopback only); a client with a token
// checks server_proof and so never talks to a server that does not hold the same token.
// Pure state machines; one per connection; not thread-safe. They are driven on channels in one
// place, the connection gate (common/hello_gate.h), and by SyncClient for blocking peers.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/frame.h"
#include "common/status.h"

namespace mr {

constexpr size_t kNonceBytes = 32;
constexpr size_t kMinNonceBytes = 16, kMaxNonceBytes = 64;
// What a refused client is told (the details stay in the server's log).
inline constexpr const char* kAuthFailed = "authentication failed";

std::string ClientProof(const std::string& token, proto::Role role, const std::string& client_nonce,
                        const std::string& server_nonce);
std::string ServerProof(const std::string& token, proto::Role role, const std::string& client_nonce,
                        const std::string& server_nonce);

// Checks the first message of a connection (version, role, nonce); on success stores the role.
Status CheckHello(const proto::Envelope& msg, std::initializer_list<proto::Role> allowed,
                  proto::Role* role);
proto::Envelope MakeHelloReply(const Status& status);
proto::Envelope MakeError(const std::string& message);

// What a server says to a peer that speaks HTTP to its RPC port: when `first_bytes` (the first
// four bytes of the connection, read as a frame header) begin an HTTP request ("GET ", "POST", ...),
// a complete "HTTP/1.1 400 Bad Request" response whose one-line body says this is `server`'s RPC
// port and where its HTTP port is (`http_address`, "" when it has none or it is unknown); else
// nullopt (not HTTP: the frame is refused as usual).
std::optional<std::string> HttpOnRpcPortReply(std::string_view first_bytes, const std::string& server,
                                              const std::string& http_address);

// The server's side. Feed it each message until done() or an error; send what it returns.
class ServerHandshake {
 public:
  ServerHandshake(std::string token, std::vector<proto::Role> allowed)
      : token_(std::move(token)), allowed_(std::move(allowed)) {}
  // On OK, *reply is to be sent (an AuthChallenge, or the final HelloReply after which done()).
  // On error, *reply holds the refusal to send before closing; the status has the reason to log.
  Status OnMessage(const proto::Envelope& msg, proto::Envelope* reply);
  bool done() const { return stage_ == Stage::kDone; }
  proto::Role role() const { return role_; }

 private:
  enum class Stage { kHello, kProof, kDone, kFailed };
  std::string token_;
  std::vector<proto::Role> allowed_;
  Stage stage_ = Stage::kHello;
  proto::Role role_ = proto::ROLE_UNSPECIFIED;
  std::string client_nonce_, server_nonce_;
};

// The client's side.
class ClientHandshake {
 public:
  ClientHandshake(std::string token, proto::Role role) : token_(std::move(token)), role_(role) {}
  proto::Envelope Hello();  // the first message
  // The answer to the server's AuthChallenge, or an error if the server is not who it claims.
  Result<proto::Envelope> OnChallenge(const proto::Envelope& msg);
  // Checks the final HelloReply. A refusal is Status::Aborted with the server's reason; so is an
  // acceptance by a server that did not prove it holds our token.
  Status OnReply(const proto::Envelope& msg);

 private:
  std::string token_;
  proto::Role role_;
  std::string client_nonce_;
  std::string server_error_;  // set when the server's proof did not check out
};

}  // namespace mr
