// The frame decoder and the hello exchange's state machines on arbitrary bytes: the input is read
// as a stream of frames (4-byte big-endian length, then a body) exactly as a Channel reads it, and
// every decoded message is fed to a server's and a client's handshake, then re-encoded. Nothing may
// crash, and a decoded message must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/frame.h"
#include "common/handshake.h"

using namespace mr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr uint32_t kMaxFrame = 1 << 16;
  ServerHandshake server(size % 2 ? "token" : "", {proto::ROLE_CLIENT, proto::ROLE_WORKER});
  ClientHandshake client("token", proto::ROLE_CLIENT);
  (void)client.Hello();
  size_t pos = 0;
  while (in.size() - pos >= kFrameHeaderSize) {
    uint32_t len = DecodeFrameLength(in.data() + pos);
    pos += kFrameHeaderSize;
    if (len > kMaxFrame || len > in.size() - pos) break;  // the Channel closes here
    auto msg = DecodeFrameBody(std::string(in.substr(pos, len)));
    pos += len;
    if (!msg.ok()) continue;
    (void)MessageName(*msg);
    std::string again = EncodeFrame(*msg);
    auto back = DecodeFrameBody(again.substr(kFrameHeaderSize));
    if (!back.ok() || back->msg_case() != msg->msg_case()) std::abort();
    proto::Envelope reply;
    if (!server.done()) {
      Status st = server.OnMessage(*msg, &reply);
      if (st.ok() && server.done()) {
        // Only a server without a token may be talked into accepting a made-up proof.
        if (size % 2) std::abort();
      }
      (void)EncodeFrame(reply);
    }
    (void)client.OnChallenge(*msg);
    (void)client.OnReply(*msg);
  }
  return 0;
}
