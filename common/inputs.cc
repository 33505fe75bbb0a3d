#include "common/inputs.h"

#include "common/gzip.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace mr {
namespace {

namespace fs = std::filesystem;

bool Hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

const char* KindOf(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::fifo: return "a FIFO";
    case fs::file_type::socket: return "a socket";
    case fs::file_type::character: return "a character device";
    case fs::file_type::block: return "a block device";
    default: return "not a regular file";
  }
}

Status AddPath(const fs::path& path, std::vector<InputFile>* out) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec && ec == std::errc::too_many_symbolic_link_levels) {
    return Status::InvalidArgument(fmt::format("input {} is a symbolic link loop", path.string()));
  }
  if (ec || !fs::exists(st)) return Status::NotFound(fmt::format("input {} does not exist", path.string()));
  if (fs::is_directory(st)) {
    std::vector<fs::path> entries;
    for (auto it = fs::directory_iterator(path, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (!Hidden(it->path())) entries.push_back(it->path());
    }
    if (ec) return Status::IoError(fmt::format("cannot list {}: {}", path.string(), ec.message()));
    std::sort(entries.begin(), entries.end());
    for (auto& e : entries) MR_RETURN_IF_ERROR(AddPath(e, out));
    return Status::OK();
  }
  // A FIFO or a device has no size to split and may never end (/dev/zero): refused by name.
  if (!fs::is_regular_file(st)) {
    return Status::InvalidArgument(fmt::format("input {} is {}: only regular files can be split", path.string(),
                                               KindOf(st)));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return Status::IoError(fmt::format("input {} is not readable", path.string()));
  }
  out->push_back({path.string(), static_cast<uint64_t>(fs::file_size(path, ec))});
  return Status::OK();
}

}  // namespace

Result<std::vector<InputFile>> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<InputFile> files;
  if (inputs.empty()) return Status::InvalidArgument("no input given");
  for (const auto& in : inputs) {
    fs::path p = fs::absolute(in).lexically_normal();
    if (in.find_first_of("*?[") == std::string::npos) {
      MR_RETURN_IF_ERROR(AddPath(p, &files));
      continue;
    }
    glob_t g{};
    int rc = ::glob(p.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      globfree(&g);
      return Status::NotFound(fmt::format("input {} matches no file", in));
    }
    std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    for (auto& m : matches) {
      if (!Hidden(m)) MR_RETURN_IF_ERROR(AddPath(m, &files));
    }
  }
  // The same file named twice (by a directory and a glob, say) is read once.
  std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.path < b.path; });
  files.erase(std::unique(files.begin(), files.end(), [](auto& a, auto& b) { return a.path == b.path; }),
              files.end());
  return files;
}

std::vector<Split> MakeSplits(const std::vector<InputFile>& files, uint64_t split_size,
                              uint32_t record_size) {
  if (record_size > 0) split_size = std::max<uint64_t>(record_size, split_size / record_size * record_size);
  std::vector<Split> splits;
  for (const auto& f : files) {
    if (IsGzipPath(f.path) && f.size > 0) {  // gzip cannot be entered in the middle: one split
      splits.push_back({f.path, 0, f.size, f.size});
      continue;
    }
    for (uint64_t off = 0; off < f.size; off += split_size) {
      splits.push_back({f.path, off, std::min(split_size, f.size - off), f.size});
    }
  }
  return splits;
}

std::vector<SplitGroup> CombineSplits(const std::vector<Split>& ranges, uint64_t split_size, size_t max_parts) {
  std::vector<SplitGroup> groups;
  SplitGroup pack;
  uint64_t packed = 0;
  auto close = [&] {
    if (!pack.empty()) groups.push_back(std::move(pack));
    pack.clear();
    packed = 0;
  };
  for (const Split& r : ranges) {
    if (r.length >= split_size) {  // a full split stays alone
      close();
      groups.push_back({r});
      continue;
    }
    if (packed + r.length > split_size || pack.size() >= max_parts) close();
    pack.push_back(r);
    packed += r.length;
  }
  close();
  return groups;
}

Status CheckWholeRecords(const std::vector<InputFile>& files, uint32_t record_size) {
  if (record_size == 0) return Status::OK();
  for (const auto& f : files) {
    if (f.size % record_size != 0) {
      return Status::InvalidArgument(fmt::format(
          "input {} is {} bytes, not a whole number of {}-byte records (a trailing partial record of {} bytes)",
          f.path, f.size, record_size, f.size % record_size));
    }
  }
  return Status::OK();
}

}  // namespace mr
