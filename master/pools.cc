#include "master/pools.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace mr {

const PoolConfig& PoolsConfig::For(const std::string& pool) const {
  auto it = pools.find(pool);
  return it == pools.end() ? defaults : it->second;
}

Status CheckPoolName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (ok) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("pool name '{}' must be 1 to 64 letters, digits, '.', '_' or '-'", name.substr(0, 80)));
}

std::string PoolOf(const proto::JobSpec& spec) {
  if (!spec.pool().empty()) return spec.pool();
  if (!spec.owner().empty() && CheckPoolName(spec.owner()).ok()) return spec.owner();
  return "default";
}

int PriorityRank(proto::Priority p) {
  switch (p) {
    case proto::PRIORITY_HIGH: return 0;
    case proto::PRIORITY_LOW: return 2;
    default: return 1;
  }
}

namespace {

template <typename T>
bool ParseNumber(const std::string& s, T* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Result<PoolsConfig> ParsePools(std::string_view text, const std::string& where) {
  PoolsConfig config;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    auto bad = [&](const std::string& why) { return Status::InvalidArgument(fmt::format("{}:{}: {}", where, n, why)); };
    if (f.size() != 4) return bad("want: NAME WEIGHT MIN_SHARE MAX_RUNNING_JOBS");
    if (f[0] != "*") {
      if (Status s = CheckPoolName(f[0]); !s.ok()) return bad(s.message());
    }
    PoolConfig p;
    if (!ParseNumber(f[1], &p.weight) || !(p.weight > 0) || p.weight > 1e6) return bad("weight must be a number > 0");
    if (!ParseNumber(f[2], &p.min_share)) return bad("min_share must be a whole number of slots");
    if (!ParseNumber(f[3], &p.max_running_jobs)) return bad("max_running_jobs must be a whole number (0: no limit)");
    if (f[0] == "*") {
      config.defaults = p;
    } else if (!config.pools.emplace(f[0], p).second) {
      return bad(fmt::format("pool {} is named twice", f[0]));
    }
  }
  return config;
}

Result<PoolsConfig> ReadPoolsFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound(fmt::format("cannot read the pools file {}", path));
  std::ostringstream text;
  text << f.rdbuf();
  if (text.str().size() > (1 << 20)) return Status::InvalidArgument(fmt::format("{}: larger than 1 MiB", path));
  return ParsePools(text.str(), path);
}

}  // namespace mr
