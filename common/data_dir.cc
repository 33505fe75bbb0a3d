#include "common/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "common/credentials.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

Status WriteSynced(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::IoError(fmt::format("cannot write {}: {}", tmp, std::strerror(err)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DataDir>> DataDir::Lock(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", path, ec.message()));
  std::string lock = path + "/LOCK";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(fmt::format("cannot open {}: {}", lock, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, n) : "";
    if (!pid.empty() && pid.back() == '\n') pid.pop_back();
    std::string holder = pid.empty() ? "" : fmt::format(" (pid {})", pid);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable(fmt::format(
          "data dir {} is in use by another mr process{}; give each process its own --data-dir", path, holder));
    }
    return Status::IoError(fmt::format("cannot lock {}: {}", lock, std::strerror(err)));
  }
  std::string pid = fmt::format("{}\n", ::getpid());
  // The pid is only for the message above; the lock is what matters, so a failed write is fine.
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return std::unique_ptr<DataDir>(new DataDir(path, fd));
}

DataDir::~DataDir() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

// DIR/IDENTITY holds lines `KEY VALUE`: id, incarnation, and name (the rest of its line).
Result<DataDir::Identity> DataDir::NextIncarnation() {
  Identity id;
  std::ifstream in(path_ + "/IDENTITY");
  for (std::string line; std::getline(in, line);) {
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string key = line.substr(0, space), value = line.substr(space + 1);
    if (key == "id") id.id = value;
    else if (key == "incarnation") id.incarnation = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "name") id.name = value;
  }
  if (id.id.empty()) id.id = Hex(RandomBytes(8));
  id.incarnation++;
  MR_RETURN_IF_ERROR(Write(id));
  return id;
}

Status DataDir::RememberName(const std::string& name) {
  if (name == identity_.name || name.find('\n') != std::string::npos) return Status::OK();
  Identity id = identity_;
  id.name = name;
  return Write(id);
}

Status DataDir::Write(const Identity& id) {
  std::string text = fmt::format("id {}\nincarnation {}\n", id.id, id.incarnation);
  if (!id.name.empty()) text += fmt::format("name {}\n", id.name);
  MR_RETURN_IF_ERROR(WriteSynced(path_ + "/IDENTITY", text));
  identity_ = id;
  return Status::OK();
}

}  // namespace mr
