// MappedFile: a whole file mapped read-only into memory, so map tasks read their split without
// copying it. Move-only; the mapping lives as long as the object. Not thread-safe to move, safe to
// read from many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace mr {

class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view data() const { return {data_, size_}; }
  // Hints the kernel to read [offset, offset+length) ahead, sequentially.
  void AdviseSequential(uint64_t offset, uint64_t length) const;

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_;
  size_t size_;
};

}  // namespace mr
