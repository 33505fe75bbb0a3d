// The hello that opens every connection once TLS is up (DESIGN §6, docs/protocol.md):
//   client -> Hello{protocol_version, role}
//   server -> HelloReply{ok, error}
// The server checks the version, that it serves the role, and that the credential the peer proved
// in the TLS handshake allows it (RoleAllowed). Nothing else is read before that.
// Pure functions; thread-safe. They are driven in one place per side: the RPC server
// (common/rpc_server.h) and the client connector (common/rpc_client.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/credentials.h"
#include "common/frame.h"
#include "common/status.h"

namespace mr {

// What a refused client is told (the details stay in the server's log).
inline constexpr const char* kAuthFailed = "authentication failed";

// Whether a peer that proved `peer` may take `role`: workers and shuffle fetches need the cluster
// credential (a cluster token or certificate); clients need it or a user token.
Status RoleAllowed(proto::Role role, const PeerCredential& peer);

// The client's first message.
proto::Envelope MakeHello(proto::Role role);
// Checks the first message of a connection (version, a role in `served`, allowed for `peer`); on
// success stores the role. The error is what the client is told.
Status CheckHello(const proto::Envelope& msg, const std::vector<proto::Role>& served, const PeerCredential& peer,
                  proto::Role* role);
proto::Envelope MakeHelloReply(const Status& status);
// The client's check of the server's answer: a refusal is Aborted with the server's reason.
Status CheckHelloReply(const proto::Envelope& msg);
proto::Envelope MakeError(const std::string& message);

// What a server says to a peer that speaks HTTP to its RPC port: when `first_bytes` (the first
// bytes of the connection) begin an HTTP request ("GET ", "POST", ...), a complete
// "HTTP/1.1 400 Bad Request" response whose one-line body says this is `server`'s RPC port and
// where its HTTP port is (`http_address`, "" when it has none or it is unknown); else nullopt (not
// HTTP: the connection is refused as usual).
std::optional<std::string> HttpOnRpcPortReply(std::string_view first_bytes, const std::string& server,
                                              const std::string& http_address);

}  // namespace mr
