// AttemptLog: what one task attempt leaves for `mr logs` (DESIGN §7) — the worker's own lines
// about the attempt, and what the user's code (streaming commands) wrote to stderr. Each is kept
// bounded: the newest max_bytes of it, cut at a line start where one is near. The worker sends both
// with the attempt's TaskReport.
// Thread-safety: thread-safe (a map's threads each run a command writing to the same log).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace mr {

constexpr size_t kAttemptLogBytes = 64u << 10;

class AttemptLog {
 public:
  explicit AttemptLog(size_t max_bytes = kAttemptLogBytes) : max_bytes_(max_bytes) {}

  // One line of the attempt's log, prefixed with the UTC wall-clock time.
  void Line(std::string_view text);
  // Bytes the user's code wrote to stderr.
  void Stderr(std::string_view bytes);
  // Lines another AttemptLog made (a task process's), appended as they are.
  void Lines(std::string_view lines);

  std::string log() const;
  std::string user_stderr() const;
  // True when the user's stderr was longer than what is kept.
  bool stderr_truncated() const;

 private:
  void Append(std::string& to, std::string_view bytes, bool* truncated);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::string log_;
  std::string stderr_;
  bool log_truncated_ = false;
  bool stderr_truncated_ = false;
};

}  // namespace mr
