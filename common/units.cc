#include "common/units.h"

#include <cctype>
#include <charconv>
#include <fmt/format.h>

namespace mr {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "123abc" into its number and suffix; false when there is no leading number.
bool SplitNumber(std::string_view text, double* number, std::string* suffix) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) i++;
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  *number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return false;
  *suffix = Lower(text.substr(i));
  return true;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  double n = 0;
  std::string suffix;
  if (!SplitNumber(text, &n, &suffix)) {
    return Status::InvalidArgument(fmt::format("bad size '{}' (want e.g. 64m, 1g, 4096)", text));
  }
  uint64_t mult = 1;
  if (suffix.empty() || suffix == "b") mult = 1;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib") mult = 1ull << 10;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib") mult = 1ull << 20;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib") mult = 1ull << 30;
  else return Status::InvalidArgument(fmt::format("bad size '{}' (suffix must be k, m or g)", text));
  double bytes = n * static_cast<double>(mult);
  if (bytes > 1e18) return Status::InvalidArgument(fmt::format("size '{}' is too large", text));
  return static_cast<uint64_t>(bytes);
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  double n = 0;
  std::string suffix;
  if (!SplitNumber(text, &n, &suffix)) {
    return Status::InvalidArgument(fmt::format("bad duration '{}' (want e.g. 500ms, 2s, 1m)", text));
  }
  double ms;
  if (suffix == "ms") ms = n;
  else if (suffix.empty() || suffix == "s") ms = n * 1000;
  else if (suffix == "m") ms = n * 60000;
  else if (suffix == "h") ms = n * 3600000;
  else return Status::InvalidArgument(fmt::format("bad duration '{}' (unit must be ms, s, m or h)", text));
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument(fmt::format("bad address '{}' (want [v6]:PORT)", text));
    }
    hp.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("bad address '{}' (want HOST:PORT)", text));
    }
    hp.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (hp.host.empty()) hp.host = "127.0.0.1";
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return Status::InvalidArgument(fmt::format("bad port in '{}'", text));
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

Result<uint64_t> ParseJobId(std::string_view text) {
  std::string_view t = text.starts_with("job-") ? text.substr(4) : text;
  uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), id);
  if (t.empty() || t.find_first_not_of("0123456789") != std::string_view::npos ||
      ec != std::errc() || ptr != t.data() + t.size()) {
    return Status::InvalidArgument(fmt::format("bad job id '{}'", text));
  }
  return id;
}

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) { v /= 1024; u++; }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60000) return fmt::format("{:.1f}s", ms / 1000.0);
  int64_t s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
}

std::string Counted(int64_t n, std::string_view one, std::string_view many) {
  if (n == 1) return fmt::format("1 {}", one);
  return many.empty() ? fmt::format("{} {}s", n, one) : fmt::format("{} {}", n, many);
}

std::string FormatOneLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    if (c == '\n') out += " | ";
    else if (c == '\r') continue;
    else if ((b < 0x20 && c != '\t') || b == 0x7f) out += fmt::format("\\x{:02x}", b);
    else out += c;
  }
  return out;
}

}  // namespace mr
