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


}  // namespace mr
