#include "common/failpoint.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/hash.h"
#include "common/log.h"
#include "common/units.h"

namespace mr {
namespace failpoint_internal {

std::atomic<bool> g_enabled{false};

namespace {

enum class Action { kOff, kCrash, kHang, kDelay, kError, kExhausted };

struct Point {
  Action action = Action::kOff;
  std::chrono::milliseconds delay{0};
  double probability = 1.0;
  int64_t remaining = -1;  // -1: unlimited
  std::mt19937_64 rng;
};

std::mutex g_mu;
std::map<std::string, Point, std::less<>>* g_points = new std::map<std::string, Point, std::less<>>();

}  // namespace

void UnknownFailpointName() {}

Status Evaluate(std::string_view name) {
  Action action;
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> l(g_mu);
    auto it = g_points->find(name);
    if (it == g_points->end()) return Status::OK();
    Point& p = it->second;
    if (p.action == Action::kOff || p.remaining == 0) return Status::OK();
    if (p.probability < 1.0 && std::uniform_real_distribution<double>(0, 1)(p.rng) >= p.probability) {
      return Status::OK();
    }
    if (p.remaining > 0) p.remaining--;
    action = p.action;
    delay = p.delay;
  }
  switch (action) {
    case Action::kCrash:
      spdlog::warn("failpoint {}: crash", name);
      spdlog::default_logger()->flush();
      // The exit_group system call itself, not _exit(): a sanitizer intercepts _exit and runs its
      // exit checks (TSan reports the threads left running as leaked), which a crash never does.
      ::syscall(SYS_exit_group, 137);
      __builtin_unreachable();
    case Action::kHang:
      spdlog::warn("failpoint {}: hang", name);
      while (true) std::this_thread::sleep_for(std::chrono::hours(1));
    case Action::kDelay:
      spdlog::info("failpoint {}: delay {} ms", name, delay.count());
      std::this_thread::sleep_for(delay);
      return Status::OK();
    case Action::kError:
      spdlog::warn("failpoint {}: error", name);
      return Status::Aborted(fmt::format("failpoint {} injected an error", name));
    case Action::kExhausted:
      spdlog::warn("failpoint {}: out of descriptors", name);
      return Status::FromErrno(EMFILE, fmt::format("failpoint {}", name));
    case Action::kOff:
      break;
  }
  return Status::OK();
}

}  // namespace failpoint_internal

Status ConfigureFailpoints(const std::string& spec, uint64_t seed,
                           std::span<const std::string_view> known) {
  using failpoint_internal::Action;
  std::map<std::string, failpoint_internal::Point, std::less<>> points;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(';', start);
    if (end == std::string::npos) end = spec.size();
    std::string entry = spec.substr(start, end - start);
    start = end + 1;
    if (entry.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(fmt::format("MR_FAILPOINTS entry '{}': {}", entry, why));
    };
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) return bad("want NAME=ACTION");
    std::string name = entry.substr(0, eq);
    std::string rest = entry.substr(eq + 1);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return bad(fmt::format("unknown failpoint '{}' (known: {})", name, fmt::join(known, ", ")));
    }
    failpoint_internal::Point p;
    p.rng.seed(seed ^ StableHash(name));
    size_t star = rest.find('*');
    if (star != std::string::npos) {
      try {
        p.remaining = std::stoll(rest.substr(0, star));
      } catch (...) {
        return bad("bad count");
      }
      rest = rest.substr(star + 1);
    }
    size_t at = rest.find('@');
    if (at != std::string::npos) {
      try {
        p.probability = std::stod(rest.substr(at + 1));
      } catch (...) {
        return bad("bad probability");
      }
      if (p.probability < 0 || p.probability > 1) return bad("probability must be in [0, 1]");
      rest = rest.substr(0, at);
    }
    if (rest == "crash") p.action = Action::kCrash;
    else if (rest == "hang") p.action = Action::kHang;
    else if (rest == "error") p.action = Action::kError;
    else if (rest == "exhausted") p.action = Action::kExhausted;
    else if (rest == "off") p.action = Action::kOff;
    else if (rest.starts_with("delay(") && rest.ends_with(")")) {
      auto d = ParseDuration(rest.substr(6, rest.size() - 7));
      if (!d.ok()) return bad(d.status().message());
      p.action = Action::kDelay;
      p.delay = *d;
    } else {
      return bad("unknown action (crash, hang, delay(D), error, exhausted, off)");
    }
    points[name] = std::move(p);
  }
  std::lock_guard<std::mutex> l(failpoint_internal::g_mu);
  *failpoint_internal::g_points = std::move(points);
  failpoint_internal::g_enabled = !failpoint_internal::g_points->empty();
  return Status::OK();
}

Status ConfigureFailpointsFromEnv() {
  const char* spec = std::getenv("MR_FAILPOINTS");
  if (spec == nullptr || *spec == '\0') return Status::OK();
  const char* seed = std::getenv("MR_FAILPOINTS_SEED");
  uint64_t s = 0;
  if (seed && *seed) {
    try {
      s = std::stoull(seed);
    } catch (...) {
      return Status::InvalidArgument(fmt::format("MR_FAILPOINTS_SEED '{}' is not a number", seed));
    }
  }
  MR_RETURN_IF_ERROR(ConfigureFailpoints(spec, s));
  spdlog::warn("failpoints enabled: {} (seed {})", spec, s);
  return Status::OK();
}

}  // namespace mr
