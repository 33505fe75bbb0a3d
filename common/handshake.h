// The server side of the hello exchange (DESIGN §6): the first message on every connection must be
// a Hello with our protocol version and an allowed role. Pure functions; thread-safe.
#pragma once

#include <initializer_list>

#include "common/frame.h"
#include "common/status.h"

namespace mr {

// Checks the first message of a connection; on success stores the peer's role.
Status CheckHello(const proto::Envelope& msg, std::initializer_list<proto::Role> allowed,
                  proto::Role* role);
// The HelloReply for the result of CheckHello.
proto::Envelope MakeHelloReply(const Status& status);
proto::Envelope MakeError(const std::string& message);

}  // namespace mr
