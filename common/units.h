// Parsing and printing of the units the command line uses (DESIGN §2).
// SIZE: bytes with an optional k/m/g suffix (powers of 1024; "64m", "64MiB", "64MB" and "67108864"
// are the same). DURATION: "500ms", "2s", "1m" or a plain number of seconds. HOST:PORT endpoints.
// JOB: a job id, "7" or "job-7".
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mr {

Result<uint64_t> ParseSize(std::string_view text);
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};
// Accepts "host:port", "[v6addr]:port" and ":port" (host 127.0.0.1). Port 0 is allowed.
Result<HostPort> ParseHostPort(std::string_view text);

// Accepts "7" and "job-7"; InvalidArgument (never an exception) on anything else, including ids
// that do not fit in 64 bits.
Result<uint64_t> ParseJobId(std::string_view text);

std::string FormatBytes(uint64_t bytes);          // "1.5 GiB"
std::string FormatDuration(std::chrono::milliseconds d);  // "16 ms", "3.4s", "1m02s"
// "1 slot", "2 slots"; `many` defaults to `one` + "s".
std::string Counted(int64_t n, std::string_view one, std::string_view many = "");
// Text as one line, for an error shown on one line: trailing line breaks dropped, inner ones
// become " | ", other control bytes \xNN (a TAB and bytes >= 0x80 stay as they are).
std::string FormatOneLine(std::string_view text);

}  // namespace mr
