// The cluster token (DESIGN §6): loading it, the HMAC-SHA256 proofs of the hello exchange, and the
// "loopback only without a token" rule. Pure functions; thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace mr {

// The token from `token_file` if given, else $MR_TOKEN, else "" (no token). A token file must be
// non-empty (trailing whitespace is dropped) and not readable by others (mode o-r).
Result<std::string> LoadToken(const std::string& token_file);

// HMAC-SHA256(key, data), 32 raw bytes.
std::string HmacSha256(const std::string& key, const std::string& data);
// `n` bytes from the OpenSSL CSPRNG.
std::string RandomBytes(size_t n);
// Constant-time equality (CRYPTO_memcmp) of two strings; false when lengths differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// True for "localhost" and loopback IP addresses (127.0.0.0/8, ::1). Anything else, including
// 0.0.0.0 and host names, is not loopback.
bool IsLoopbackHost(const std::string& host);

// Refuses a server address that is not loopback when there is no token; `what` names the server.
Status CheckBindAllowed(const std::string& host, const std::string& token, const std::string& what);

}  // namespace mr
