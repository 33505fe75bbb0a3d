#include "worker/part_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace mr {
namespace {

constexpr size_t kBufferBytes = 4 << 20;
constexpr uint64_t kWritebackBytes = 32 << 20;

}  // namespace

PartWriter::~PartWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status PartWriter::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::IoError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  buf_.reserve(kBufferBytes);
  return Status::OK();
}

void PartWriter::Append(std::string_view s) {
  if (buf_.size() + s.size() > kBufferBytes) FlushBuffer();
  buf_.append(s);
}

void PartWriter::Emit(std::string_view key, std::string_view value) {
  Append(key);
  if (!raw_) buf_.push_back('\t');
  Append(value);
  if (!raw_) buf_.push_back('\n');
  records_++;
  bytes_ += static_cast<int64_t>(key.size() + value.size() + (raw_ ? 0 : 2));
}

void PartWriter::FlushBuffer() {
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0 && status_.ok()) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status_ = Status::IoError(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  buf_.clear();
  if (status_.ok() && written_ - synced_upto_ >= kWritebackBytes) {
    ::sync_file_range(fd_, static_cast<off_t>(synced_upto_), static_cast<off_t>(written_ - synced_upto_),
                      SYNC_FILE_RANGE_WRITE);
    synced_upto_ = written_;
  }
}

Status PartWriter::Close() {
  if (fd_ < 0) return status_;
  FlushBuffer();
  if (status_.ok() && ::fsync(fd_) != 0) {
    status_ = Status::IoError(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  }
  if (::close(fd_) != 0 && status_.ok()) {
    status_ = Status::IoError(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  }
  fd_ = -1;
  return status_;
}

}  // namespace mr
