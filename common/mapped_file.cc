#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace mr {

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, fmt::format("cannot open {}", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, fmt::format("cannot stat {}", path));
  }
  size_t size = static_cast<size_t>(st.st_size);
  const char* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, fmt::format("cannot map {}", path));
    }
    data = static_cast<const char*>(p);
  }
  ::close(fd);
  return std::unique_ptr<MappedFile>(new MappedFile(data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

void MappedFile::AdviseSequential(uint64_t offset, uint64_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  long page = ::sysconf(_SC_PAGESIZE);
  uint64_t start = offset - offset % page;
  uint64_t end = std::min<uint64_t>(size_, offset + length);
  ::madvise(const_cast<char*>(data_) + start, end - start, MADV_SEQUENTIAL);
  ::madvise(const_cast<char*>(data_) + start, end - start, MADV_WILLNEED);
}

}  // namespace mr
