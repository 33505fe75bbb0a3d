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
    ReadBlock();
  }
  return false;
}

void RunFileReader::ReadBlock() {
  // Keep the partial record; the next block's records go after it.
  buf_.erase(0, pos_);
  pos_ = 0;
  while (true) {
    std::string_view in(blocks_.data() + blocks_pos_, blocks_.size() - blocks_pos_);
    auto size = BlockSizeAt(in);
    if (!size.ok()) {
      status_ = Status::Corruption(fmt::format("{}: {}", path_, size.status().message()));
      return;
    }
    if (*size != 0 && *size <= in.size()) {
      Status decoded = DecodeBlock(&in, &buf_);
      if (!decoded.ok()) {
        status_ = Status::Corruption(fmt::format("{}: {}", path_, decoded.message()));
        return;
      }
      blocks_pos_ = blocks_.size() - in.size();
      return;
    }
    if (file_done_) {
      if (in.empty()) eof_ = true;
      else status_ = Status::Corruption(fmt::format("{} ends inside a block", path_));
      return;
    }
    blocks_.erase(0, blocks_pos_);
    blocks_pos_ = 0;
    const size_t old = blocks_.size();
    const size_t want = std::max(chunk_, *size);
    blocks_.resize(old + want);
    const size_t n = std::fread(blocks_.data() + old, 1, want, file_);
    blocks_.resize(old + n);
    if (n < want) {
      if (std::ferror(file_)) {
        status_ = Status::FromErrno(errno, fmt::format("cannot read {}", path_));
        return;
      }
      file_done_ = true;
    }
  }
}

RunFileWriter::~RunFileWriter() {
  if (file_) std::fclose(file_);
}

Status RunFileWriter::Open(const std::string& path, size_t buffer_bytes, Codec codec) {
  path_ = path;
  codec_ = codec;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return Status::FromErrno(errno, fmt::format("cannot create {}", path));
  std::setvbuf(file_, nullptr, _IONBF, 0);  // the buffer is ours
  buffer_bytes_ = std::clamp<size_t>(buffer_bytes, 4096, kBlockBytes);
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
  if (status_.ok() && !buf_.empty()) {
    block_.clear();
    AppendBlock(codec_, buf_, &block_);
    if (std::fwrite(block_.data(), 1, block_.size(), file_) != block_.size()) {
      status_ = Status::FromErrno(errno, fmt::format("cannot write {}", path_));
    }
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
