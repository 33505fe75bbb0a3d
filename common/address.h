// Network address rules (DESIGN §6, §10), in one place: which hosts are loopback or wildcard, which
// addresses a server may bind, and whether an address a peer advertises can be reached by others.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace mr {

// True for "localhost", "*.localhost", and loopback IP addresses (127.0.0.0/8, ::1, also
// v4-mapped and in brackets). Anything else, including 0.0.0.0 and other host names, is not.
bool IsLoopbackHost(std::string_view host);
// True for the addresses that mean "every interface": "", "0.0.0.0", "::" (also in brackets).
bool IsWildcardHost(std::string_view host);

// Refuses a server address that is not loopback for a server that may only serve loopback (one
// without a cluster token); `what` names the server.
Status CheckBindAllowed(const std::string& host, bool loopback_only, const std::string& what);

// Checks an address a peer (connected from `peer_host`) advertises for other hosts to reach it
// ("HOST:PORT"): never a wildcard, and loopback only from a loopback peer. The error names `what`
// and the fix (`fix`, e.g. "start the worker with --advertise HOST").
Status CheckAdvertisedAddress(const std::string& address, const std::string& peer_host,
                              const std::string& what, const std::string& fix);

// The address to show for a bound server: a wildcard becomes the loopback address of its family
// (for local tools and URLs; "0.0.0.0" is never something to open).
std::string DisplayHost(const std::string& bound_host);

}  // namespace mr
