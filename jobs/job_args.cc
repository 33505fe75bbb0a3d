#include "jobs/job_args.h"

#include <fmt/format.h>

#include <charconv>

namespace mr {

Result<int64_t> GetIntArg(const JobArgs& args, const std::string& key, int64_t default_value, int64_t min,
                          int64_t max) {
  auto it = args.find(key);
  if (it == args.end()) return default_value;
  const std::string& s = it->second;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    return Status::InvalidArgument(
        fmt::format("--arg {}={}: want an integer from {} to {}", key, s, min, max));
  }
  return v;
}

Result<size_t> GetChoiceArg(const JobArgs& args, const std::string& key,
                            const std::vector<std::string>& choices, size_t default_index) {
  auto it = args.find(key);
  if (it == args.end()) return default_index;
  for (size_t i = 0; i < choices.size(); i++) {
    if (choices[i] == it->second) return i;
  }
  return Status::InvalidArgument(
      fmt::format("--arg {}={}: want one of {}", key, it->second, fmt::join(choices, ", ")));
}

}  // namespace mr
