#include "common/block.h"

#include <lz4.h>
#include <nmmintrin.h>
#include <zstd.h>

#include <array>
#include <cstring>
#include <fmt/format.h>
#include <memory>

#include "common/record.h"

namespace mr {
namespace {

constexpr int kZstdLevel = 1;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

uint32_t Crc32cPortable(const char* p, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  while (n--) crc = table[(crc ^ static_cast<unsigned char>(*p++)) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const char* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; p++, n--) c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*p));
  return c32;
}

bool HaveSse42() {
  // __builtin_cpu_init first: this may run before libgcc's own initialization of the CPU model.
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return have;
}

struct ZstdContexts {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> c{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d{ZSTD_createDCtx(), ZSTD_freeDCtx};
};

ZstdContexts& Zstd() {
  thread_local ZstdContexts contexts;
  return contexts;
}

// Compresses `in` into dst (capacity `room`); 0 when it does not fit.
size_t Compress(Codec codec, std::string_view in, char* dst, size_t room) {
  if (room == 0) return 0;
  switch (codec) {
    case Codec::kLz4: {
      int n = LZ4_compress_default(in.data(), dst, static_cast<int>(in.size()), static_cast<int>(room));
      return n > 0 ? static_cast<size_t>(n) : 0;
    }
    case Codec::kZstd: {
      size_t n = ZSTD_compressCCtx(Zstd().c.get(), dst, room, in.data(), in.size(), kZstdLevel);
      return ZSTD_isError(n) ? 0 : n;
    }
    case Codec::kNone:
      break;
  }
  return 0;
}

}  // namespace

Result<Codec> ParseCodec(std::string_view name) {
  if (name == "lz4") return Codec::kLz4;
  if (name == "zstd") return Codec::kZstd;
  if (name == "none") return Codec::kNone;
  return Status::InvalidArgument(fmt::format("unknown intermediate codec '{}' (choose lz4, zstd or none)", name));
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
    case Codec::kNone: return "none";
  }
  return "unknown";
}

Codec CodecOf(proto::IntermediateCodec codec) {
  switch (codec) {
    case proto::CODEC_NONE: return Codec::kNone;
    case proto::CODEC_ZSTD: return Codec::kZstd;
    default: return Codec::kLz4;
  }
}

proto::IntermediateCodec ToProto(Codec codec) {
  switch (codec) {
    case Codec::kNone: return proto::CODEC_NONE;
    case Codec::kZstd: return proto::CODEC_ZSTD;
    case Codec::kLz4: break;
  }
  return proto::CODEC_LZ4;
}

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
  crc = HaveSse42() ? Crc32cHardware(data.data(), data.size(), crc) : Crc32cPortable(data.data(), data.size(), crc);
  return ~crc;
}

void AppendBlock(Codec codec, std::string_view records, std::string* out) {
  const size_t start = out->size();
  const size_t room = codec == Codec::kNone || records.size() < 64 ? 0 : records.size() - 1;
  out->resize(start + kBlockHeaderBytes + std::max(room, records.size()));
  char* header = out->data() + start;
  size_t stored = Compress(codec, records, header + kBlockHeaderBytes, room);
  if (stored == 0) {  // stored as it is
    codec = Codec::kNone;
    stored = records.size();
    if (stored > 0) std::memcpy(header + kBlockHeaderBytes, records.data(), stored);
  }
  std::string fields(1, static_cast<char>(codec));
  PutFixed32BE(&fields, static_cast<uint32_t>(records.size()));
  PutFixed32BE(&fields, static_cast<uint32_t>(stored));
  PutFixed32BE(&fields, Crc32c(std::string_view(header + kBlockHeaderBytes, stored), Crc32c(fields)));
  std::memcpy(header, fields.data(), kBlockHeaderBytes);
  out->resize(start + kBlockHeaderBytes + stored);
}

Result<size_t> BlockSizeAt(std::string_view in) {
  if (in.size() < kBlockHeaderBytes) return size_t{0};
  const auto codec = static_cast<unsigned char>(in[0]);
  const uint32_t raw = GetFixed32BE(in.data() + 1);
  const uint32_t stored = GetFixed32BE(in.data() + 5);
  if (codec > static_cast<unsigned char>(Codec::kZstd) || raw > kMaxBlockRawBytes || stored > kMaxBlockRawBytes ||
      (codec == static_cast<unsigned char>(Codec::kNone) && raw != stored)) {
    return Status::Corruption(fmt::format("bad block header (codec {}, {} bytes stored for {})", codec, stored, raw));
  }
  return kBlockHeaderBytes + stored;
}

namespace {

// Checks the block at the front of `in`; returns its size.
Result<size_t> CheckBlock(std::string_view in) {
  auto size = BlockSizeAt(in);
  if (!size.ok()) return size.status();
  if (*size == 0 || *size > in.size()) {
    return Status::Corruption(fmt::format("a block is cut short ({} of {} bytes)", in.size(),
                                          *size == 0 ? kBlockHeaderBytes : *size));
  }
  uint32_t crc = Crc32c(in.substr(0, 9));
  crc = Crc32c(in.substr(kBlockHeaderBytes, *size - kBlockHeaderBytes), crc);
  if (crc != GetFixed32BE(in.data() + 9)) {
    return Status::Corruption(fmt::format("a block of {} bytes fails its checksum", *size));
  }
  return *size;
}

}  // namespace

Status DecodeBlock(std::string_view* in, std::string* records) {
  auto size = CheckBlock(*in);
  if (!size.ok()) return size.status();
  const auto codec = static_cast<Codec>((*in)[0]);
  const uint32_t raw = GetFixed32BE(in->data() + 1);
  std::string_view stored = in->substr(kBlockHeaderBytes, *size - kBlockHeaderBytes);
  const size_t at = records->size();
  records->resize(at + raw);
  char* dst = records->data() + at;
  bool ok = true;
  switch (codec) {
    case Codec::kNone:
      if (raw > 0) std::memcpy(dst, stored.data(), raw);
      break;
    case Codec::kLz4:
      ok = LZ4_decompress_safe(stored.data(), dst, static_cast<int>(stored.size()), static_cast<int>(raw)) ==
           static_cast<int>(raw);
      break;
    case Codec::kZstd: {
      size_t n = ZSTD_decompressDCtx(Zstd().d.get(), dst, raw, stored.data(), stored.size());
      ok = !ZSTD_isError(n) && n == raw;
      break;
    }
  }
  if (!ok) {
    records->resize(at);
    return Status::Corruption(fmt::format("a {} block does not decompress to its {} bytes", CodecName(codec), raw));
  }
  in->remove_prefix(*size);
  return Status::OK();
}

Result<std::string> DecodeBlocks(std::string_view data) {
  std::string records;
  while (!data.empty()) MR_RETURN_IF_ERROR(DecodeBlock(&data, &records));
  return records;
}

Result<uint64_t> CheckBlocks(std::string_view data) {
  uint64_t raw = 0;
  while (!data.empty()) {
    auto size = CheckBlock(data);
    if (!size.ok()) return size.status();
    raw += GetFixed32BE(data.data() + 1);
    data.remove_prefix(*size);
  }
  return raw;
}

}  // namespace mr
