// PartWriter: a reduce attempt's output file. Lines key<TAB>value<LF>, or with `raw`
// (Job::RawOutput) the key's bytes then the value's. Writes go through a 4 MiB buffer straight to
// write(2), and every 32 MiB the kernel is asked to start writing back what was written, so the
// fsync in Close() finds little left to do. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr/job_api.h"

namespace mr {

class PartWriter : public Emitter {
 public:
  explicit PartWriter(bool raw) : raw_(raw) {}
  ~PartWriter() override;
  PartWriter(const PartWriter&) = delete;
  PartWriter& operator=(const PartWriter&) = delete;

  Status Open(const std::string& path);
  void Emit(std::string_view key, std::string_view value) override;
  // Flushes, syncs and closes; the file is complete only when this succeeds.
  Status Close();
  int64_t records() const { return records_; }
  int64_t bytes() const { return bytes_; }

 private:
  void Append(std::string_view s);
  void FlushBuffer();
  const bool raw_;
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  uint64_t written_ = 0;      // bytes handed to write(2)
  uint64_t synced_upto_ = 0;  // writeback requested up to here
  Status status_;
  int64_t records_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace mr
