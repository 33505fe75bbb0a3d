#include "common/file_system.h"

#include <algorithm>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace mr {
namespace {

namespace fs = std::filesystem;

std::string Parent(const std::string& path) {
  std::string p = fs::path(path).parent_path().string();
  return p.empty() ? "/" : p;
}

bool Under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         (dir.back() == '/' || path[dir.size()] == '/'));
}

class RealFileSystem : public FileSystem {
 public:
  bool Exists(const std::string& path) override {
    std::error_code ec;
    return fs::exists(fs::symlink_status(path, ec));
  }
  Status CreateDirs(const std::string& path) override {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", path));
    return Status::OK();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec) return Status::FromErrorCode(ec, fmt::format("cannot rename {} to {}", from, to));
    return Status::OK();
  }
  Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return Status::FromErrorCode(ec, fmt::format("cannot remove {}", path));
    return Status::OK();
  }
  Status WriteFile(const std::string& path, std::string_view content) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, fmt::format("cannot write {}", path));
    bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
              ::fsync(fd) == 0;
    int err = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok) return Status::FromErrno(err, fmt::format("cannot write {}", path));
    return Status::OK();
  }
  Result<std::vector<std::string>> List(const std::string& dir) override {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string rel = it->path().lexically_relative(dir).string();
      if (it->is_directory(ec) && !it->is_symlink(ec)) rel += "/";
      out.push_back(std::move(rel));
    }
    if (ec) return Status::FromErrorCode(ec, fmt::format("cannot list {}", dir));
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static RealFileSystem* real = new RealFileSystem();
  return real;
}

bool InMemoryFileSystem::DirExists(const std::string& path) const { return dirs_.contains(path); }

bool InMemoryFileSystem::Exists(const std::string& path) { return files_.contains(path) || DirExists(path); }

Status InMemoryFileSystem::CreateDirs(const std::string& path) {
  if (files_.contains(path)) return Status::IoError(fmt::format("cannot create {}: File exists", path));
  for (std::string p = path; p != "/" && !p.empty(); p = Parent(p)) dirs_.insert(p);
  return Status::OK();
}

Status InMemoryFileSystem::Rename(const std::string& from, const std::string& to) {
  if (!DirExists(Parent(to))) {
    return Status::IoError(fmt::format("cannot rename {} to {}: No such file or directory", from, to));
  }
  if (auto f = files_.find(from); f != files_.end()) {
    files_[to] = std::move(f->second);
    files_.erase(from);
    return Status::OK();
  }
  if (!DirExists(from)) return Status::IoError(fmt::format("cannot rename {} to {}: No such file or directory", from, to));
  std::map<std::string, std::string> moved_files;
  std::set<std::string> moved_dirs;
  for (auto it = files_.begin(); it != files_.end();) {
    if (Under(it->first, from)) {
      moved_files[to + it->first.substr(from.size())] = std::move(it->second);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    if (Under(*it, from)) {
      moved_dirs.insert(to + it->substr(from.size()));
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
  files_.merge(moved_files);
  dirs_.merge(moved_dirs);
  return Status::OK();
}

Status InMemoryFileSystem::RemoveAll(const std::string& path) {
  std::erase_if(files_, [&](const auto& kv) { return Under(kv.first, path); });
  std::erase_if(dirs_, [&](const std::string& d) { return d != "/" && Under(d, path); });
  return Status::OK();
}

Status InMemoryFileSystem::WriteFile(const std::string& path, std::string_view content) {
  if (!DirExists(Parent(path))) return Status::IoError(fmt::format("cannot write {}: No such file or directory", path));
  files_[path] = std::string(content);
  return Status::OK();
}

Result<std::vector<std::string>> InMemoryFileSystem::List(const std::string& dir) {
  std::vector<std::string> out;
  const size_t skip = dir.size() + (dir.back() == '/' ? 0 : 1);
  for (const std::string& p : ListUnder(dir)) out.push_back(p.substr(skip) + (DirExists(p) ? "/" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

std::set<std::string> InMemoryFileSystem::ListUnder(const std::string& dir) const {
  std::set<std::string> out;
  for (auto& [f, c] : files_) {
    if (f != dir && Under(f, dir)) out.insert(f);
  }
  for (auto& d : dirs_) {
    if (d != dir && Under(d, dir)) out.insert(d);
  }
  return out;
}

}  // namespace mr
