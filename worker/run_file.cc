#include "worker/run_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "common/record.h"

namespace mr {

RunFileReader::~RunFileReader() {
  if (file_) std::fclose(file_);
}

Status RunFileReader::Open(const std::string& path, size_t buffer_bytes) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) return Status::FromErrno(errno, fmt::format("cannot open {}", path));
  chunk_ = std::max<size_t>(buffer_bytes, 4096);
  return Status::OK();
}

void RunFileReader::OpenSource(const std::string& name, ChunkSource source) {
  path_ = name;
  source_ = std::move(source);
}

bool RunFileReader::Next(std::string_view* key, std::string_view* value) {
  while (status_.ok()) {
    std::string_view in(buf_.data() + pos_, buf_.size() - pos_);
    if (GetLengthPrefixed(&in, key) && GetLengthPrefixed(&in, value)) {
      pos_ = buf_.size() - in.size();
      return true;
    }
    if (eof_) {
      if (pos_ < buf_.size()) status_ = Status::Corruption(fmt::format("{} ends inside a record", path_));
      return false;
    }
    if (source_) {  // the next chunk; appended only to a partial record
      auto more = source_(&next_);
      if (!more.ok()) {
        status_ = more.status();
        return false;
      }
      if (!*more) {
        eof_ = true;
        continue;
      }
      if (pos_ == buf_.size()) {
        buf_.swap(next_);
      } else {
        buf_.erase(0, pos_);
        buf_.append(next_);
      }
      std::string().swap(next_);  // what was read goes back now, not at the next chunk
      pos_ = 0;
      continue;
    }
    // Keep the partial record, read more after it.
    buf_.erase(0, pos_);
    pos_ = 0;
    size_t old = buf_.size();
    size_t want = std::max(chunk_, old);
    buf_.resize(old + want);
    size_t n = std::fread(buf_.data() + old, 1, want, file_);
    buf_.resize(old + n);
    if (n < want) {
      if (std::ferror(file_)) {
        status_ = Status::FromErrno(errno, fmt::format("cannot read {}", path_));
        return false;
      }
      eof_ = true;
    }
  }
  return false;
}

RunFileWriter::~RunFileWriter() {
  if (file_) std::fclose(file_);
}

Status RunFileWriter::Open(const std::string& path, size_t buffer_bytes) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return Status::FromErrno(errno, fmt::format("cannot create {}", path));
  std::setvbuf(file_, nullptr, _IONBF, 0);  // the buffer is ours
  buffer_bytes_ = std::max<size_t>(buffer_bytes, 4096);
  buf_.reserve(buffer_bytes_);
  return Status::OK();
}

void RunFileWriter::Append(std::string_view key, std::string_view value) {
  size_t before = buf_.size();
  AppendRecord(&buf_, key, value);
  bytes_ += buf_.size() - before;
  if (buf_.size() >= buffer_bytes_) Flush();
}

void RunFileWriter::Flush() {
  if (status_.ok() && !buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
    status_ = Status::FromErrno(errno, fmt::format("cannot write {}", path_));
  }
  buf_.clear();
}

Status RunFileWriter::Close() {
  if (!file_) return status_.ok() ? Status::IoError(path_ + " is not open") : status_;
  Flush();
  if (std::fclose(file_) != 0 && status_.ok()) {
    status_ = Status::FromErrno(errno, fmt::format("cannot write {}", path_));
  }
  file_ = nullptr;
  return status_;
}

}  // namespace mr
