#include "common/fd_limit.h"

#include <sys/resource.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdio>

namespace mr {
namespace {

std::atomic<uint64_t> started_with{0};

uint64_t Value(rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v); }

uint64_t NrOpen() {
  uint64_t n = 0;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    if (std::fscanf(f, "%lu", &n) != 1) n = 0;
    std::fclose(f);
  }
  return n;
}

}  // namespace

FdLimit RaiseFdLimit() {
  FdLimit out;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return out;
  out.before = out.soft = Value(rl.rlim_cur);
  out.hard = Value(rl.rlim_max);
  uint64_t expected = 0;
  started_with.compare_exchange_strong(expected, out.before);
  if (rl.rlim_cur == rl.rlim_max) return out;
  rlimit raised = rl;
  raised.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    // An unlimited hard limit cannot be the soft one beyond the kernel's nr_open.
    uint64_t nr_open = NrOpen();
    if (nr_open == 0 || nr_open <= Value(rl.rlim_cur)) return out;
    raised.rlim_cur = static_cast<rlim_t>(nr_open);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) return out;
  }
  out.soft = Value(raised.rlim_cur);
  return out;
}

uint64_t SoftFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  return Value(rl.rlim_cur);
}

std::string FdLimitText() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "open files: limit unknown";
  uint64_t before = started_with.load();
  uint64_t soft = Value(rl.rlim_cur), hard = Value(rl.rlim_max);
  std::string from = before && before != soft ? fmt::format("raised from {}; ", before) : "";
  return fmt::format("open files: limit {} ({}hard limit {})", soft, from, hard);
}

}  // namespace mr
