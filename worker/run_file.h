// Record runs on local disk (the reducer's copy of fetched map output, and the intermediate runs of
// a multi-pass merge), stored as blocks (common/block.h: compressed, checksummed): a RunFileReader
// reads a run's records (common/record.h) sequentially, block by block, through buffers that grow
// only for a block larger than them; a block that fails its check ends the read with Corruption.
// It reads a stream of record chunks the same way (a map output fetched while merged, or records
// sent to a task process), copying a chunk only when a record spans two. A RunFileWriter appends
// records through a buffer of its own and writes them as blocks of its codec. Not thread-safe.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <functional>

#include "common/block.h"
#include "common/status.h"

namespace mr {

class RunFileReader {
 public:
  RunFileReader() = default;
  ~RunFileReader();
  RunFileReader(const RunFileReader&) = delete;
  RunFileReader& operator=(const RunFileReader&) = delete;

  // A run file of blocks.
  Status Open(const std::string& path, size_t buffer_bytes);
  // Reads the chunks of records `source` hands out: it replaces *chunk with the next one and
  // returns true, or returns false at the end (or an error).
  using ChunkSource = std::function<Result<bool>(std::string* chunk)>;
  void OpenSource(const std::string& name, ChunkSource source);
  // The views stay valid until the next call. False at the end or on error (see status()).
  bool Next(std::string_view* key, std::string_view* value);
  const Status& status() const { return status_; }

 private:
  // Decodes the file's next block after the records not yet read; sets eof_ at the end.
  void ReadBlock();
  std::FILE* file_ = nullptr;
  std::string blocks_;   // bytes read from the file, not yet decoded
  size_t blocks_pos_ = 0;
  bool file_done_ = false;  // the file is read to its end
  std::string path_;
  std::string buf_;
  size_t pos_ = 0;
  size_t chunk_ = 0;
  bool eof_ = false;
  ChunkSource source_;
  std::string next_;
  Status status_;
};

class RunFileWriter {
 public:
  RunFileWriter() = default;
  ~RunFileWriter();  // closes the file (a run not Close()d is incomplete)
  RunFileWriter(const RunFileWriter&) = delete;
  RunFileWriter& operator=(const RunFileWriter&) = delete;

  Status Open(const std::string& path, size_t buffer_bytes, Codec codec);
  // An error is kept and returned by Close().
  void Append(std::string_view key, std::string_view value);
  // Writes what is buffered and closes the file (no fsync: a run lives as long as its attempt).
  Status Close();
  uint64_t bytes() const { return bytes_; }  // of records, before they are encoded

 private:
  void Flush();
  Codec codec_ = Codec::kNone;
  std::string block_;
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string buf_;
  size_t buffer_bytes_ = 0;
  uint64_t bytes_ = 0;
  Status status_;
};

}  // namespace mr
