// Framing (DESIGN §6, docs/protocol.md): a 4-byte big-endian length, then a serialized
// proto::Envelope of that many bytes. The length is checked against the maximum before anything is
// allocated. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

// 2: every connection is TLS, and the hello carries no proof of its own.
// 3: map output travels as compressed, checksummed blocks (FetchChunk.blocks, common/block.h).
constexpr uint32_t kProtocolVersion = 3;
constexpr uint32_t kDefaultMaxFrame = 64u << 20;
constexpr size_t kFrameHeaderSize = 4;
// A reader grows a frame's buffer by at most this, or by what it holds already, per step, so a
// header that declares a big frame costs only what actually arrives.
constexpr size_t kFrameGrowthStep = 64u << 10;
// The size of the next step when `have` of `len` bytes arrived.
inline size_t NextFrameStep(size_t have, size_t len) {
  size_t step = have > kFrameGrowthStep ? have : kFrameGrowthStep;
  return len - have < step ? len - have : step;
}

// The frame for `msg`: header and body.
std::string EncodeFrame(const proto::Envelope& msg);
uint32_t DecodeFrameLength(const char header[kFrameHeaderSize]);
// Parses a frame body; an error names what is wrong (unparsable, or no message set).
Result<proto::Envelope> DecodeFrameBody(const std::string& body);
// A short name of the message held, for logs ("submit_job").
std::string MessageName(const proto::Envelope& msg);

// Protobuf `string` fields must hold valid UTF-8, or the receiver cannot parse the whole message.
// proto/mr.proto keeps only map keys (argument and counter names) as `string`. CheckSendable says
// which field of `msg` (at any depth) is not valid UTF-8: InvalidArgument "JobSpec.args key
// \"caf\xe9\" is not valid UTF-8", else OK. MakeSendable replaces every invalid byte in such fields
// with U+FFFD and returns how many fields it changed (two keys that become equal keep one entry).
Status CheckSendable(const google::protobuf::Message& msg);
int MakeSendable(google::protobuf::Message* msg);
// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

}  // namespace mr
