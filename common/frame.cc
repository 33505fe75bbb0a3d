#include "common/frame.h"

#include "common/record.h"

namespace mr {

std::string EncodeFrame(const proto::Envelope& msg) {
  std::string out;
  size_t size = msg.ByteSizeLong();
  out.reserve(kFrameHeaderSize + size);
  PutFixed32BE(&out, static_cast<uint32_t>(size));
  msg.AppendToString(&out);
  return out;
}

uint32_t DecodeFrameLength(const char header[kFrameHeaderSize]) { return GetFixed32BE(header); }

Result<proto::Envelope> DecodeFrameBody(const std::string& body) {
  proto::Envelope msg;
  if (!msg.ParseFromString(body)) return Status::Protocol("unparsable frame");
  if (msg.msg_case() == proto::Envelope::MSG_NOT_SET) {
    return Status::Protocol("frame holds no known message");
  }
  return msg;
}

std::string MessageName(const proto::Envelope& msg) {
  const auto* field = msg.GetDescriptor()->FindFieldByNumber(msg.msg_case());
  return field ? field->name() : "none";
}

}  // namespace mr
