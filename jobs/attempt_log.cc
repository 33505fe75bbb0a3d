#include "jobs/attempt_log.h"

#include <chrono>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace mr {

void AttemptLog::Append(std::string& to, std::string_view bytes, bool* truncated) {
  to.append(bytes);
  if (to.size() <= max_bytes_) return;
  *truncated = true;
  size_t cut = to.size() - max_bytes_;
  // Start at a whole line when one starts within the first 1/16 of what is kept.
  size_t nl = to.find('\n', cut);
  if (nl != std::string::npos && nl + 1 - cut <= max_bytes_ / 16) cut = nl + 1;
  to.erase(0, cut);
}

void AttemptLog::Lines(std::string_view lines) {
  std::lock_guard<std::mutex> l(mu_);
  Append(log_, lines, &log_truncated_);
}

void AttemptLog::Line(std::string_view text) {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string line = fmt::format("{:%Y-%m-%d %H:%M:%S} {}\n", now, text);
  std::lock_guard<std::mutex> l(mu_);
  Append(log_, line, &log_truncated_);
}

void AttemptLog::Stderr(std::string_view bytes) {
  std::lock_guard<std::mutex> l(mu_);
  Append(stderr_, bytes, &stderr_truncated_);
}

std::string AttemptLog::log() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_;
}

std::string AttemptLog::user_stderr() const {
  std::lock_guard<std::mutex> l(mu_);
  return stderr_;
}

bool AttemptLog::stderr_truncated() const {
  std::lock_guard<std::mutex> l(mu_);
  return stderr_truncated_;
}

}  // namespace mr
