// The frame decoder and the hello's checks on arbitrary bytes: the input is read as a stream of
// frames (4-byte big-endian length, then a body) exactly as a Channel reads it once TLS is up, and
// every decoded message is checked as a server's first message (for a peer with no credential, a
// user's and the cluster's) and as a client's hello reply, then re-encoded. Nothing may crash, a
// decoded message must survive a round trip, no peer without a credential is ever let in, and no
// user is ever let in as a worker or a shuffle fetch.
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
  const std::vector<proto::Role> served = {proto::ROLE_CLIENT, proto::ROLE_WORKER, proto::ROLE_SHUFFLE};
  PeerCredential nobody, user, cluster;
  user.kind = PeerCredential::Kind::kUser;
  user.user = "alice";
  cluster.kind = PeerCredential::Kind::kCluster;
  cluster.admin = true;
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
    proto::Role role = proto::ROLE_UNSPECIFIED;
    if (CheckHello(*msg, served, nobody, &role).ok()) std::abort();
    if (CheckHello(*msg, served, user, &role).ok() && role != proto::ROLE_CLIENT) std::abort();
    Status st = CheckHello(*msg, served, cluster, &role);
    (void)EncodeFrame(MakeHelloReply(st));
    (void)CheckHelloReply(*msg);
  }
  return 0;
}
