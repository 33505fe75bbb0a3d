// Blocks of intermediate data (DESIGN §3). Map output is stored in a worker's store, sent to
// reducers and kept in their run files as a sequence of blocks; each block holds whole records
// (common/record.h), compressed with the job's codec (--intermediate-codec) and checksummed:
//
//   codec u8 | raw length u32 | stored length u32 | CRC32C u32 | stored bytes  (big-endian, as
//                                                                               common/record.h)
//
// The CRC32C covers the codec byte, both lengths and the stored bytes, so a flipped bit anywhere in a
// block (on a worker's disk, in a run file, on the wire) is found before any of its records is
// read: a block that fails its check is never decoded. A block that would not shrink is stored
// as it is (codec byte "none"), whatever the job's codec, so incompressible data costs only the
// attempt. Codecs: LZ4 (the default: fast on both sides), zstd at level 1 (smaller, slower),
// none. Pure functions; thread-safe (compression contexts are per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

enum class Codec : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

inline constexpr size_t kBlockHeaderBytes = 13;
// About the record bytes a writer puts in one block (more when one record is larger).
inline constexpr size_t kBlockBytes = 256 << 10;
// The most raw bytes one block may hold (a block holds whole records; a record larger than a
// frame cannot be shipped anyway).
inline constexpr uint32_t kMaxBlockRawBytes = 1u << 30;

// "lz4", "zstd", "none"; InvalidArgument naming the choices for anything else.
Result<Codec> ParseCodec(std::string_view name);
std::string_view CodecName(Codec codec);
// A job's codec, as its spec or assignment carries it (the proto default is LZ4).
Codec CodecOf(proto::IntermediateCodec codec);
proto::IntermediateCodec ToProto(Codec codec);

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (SSE4.2 instructions when the CPU has them).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

// Appends one block holding `records` (at most kMaxBlockRawBytes) to *out.
void AppendBlock(Codec codec, std::string_view records, std::string* out);

// The size of the block at the front of `in` when its header is there (0 when `in` holds less
// than a header); Corruption for a header no block can have.
Result<size_t> BlockSizeAt(std::string_view in);

// Takes the whole block at the front of *in off it, checks it and appends its records to *records.
// Corruption when the block is cut short, fails its checksum or does not decompress to its length.
Status DecodeBlock(std::string_view* in, std::string* records);

// The records of `data`, a sequence of whole blocks, each checked.
Result<std::string> DecodeBlocks(std::string_view data);

// Checks that `data` is a sequence of whole blocks that pass their checksums, without
// decompressing them. Returns the raw bytes they hold.
Result<uint64_t> CheckBlocks(std::string_view data);

}  // namespace mr
