#include "worker/shuffle_server.h"

#include <algorithm>
#include <fmt/format.h>

#include "common/credentials.h"
#include "common/failpoint.h"
#include "common/handshake.h"
#include "common/log.h"

namespace mr {
namespace {

// Large chunks: fewer round trips; a session still holds one chunk at a time.
constexpr size_t kChunkBytes = 4 << 20;
constexpr size_t kMinChunkBytes = 256 << 10;

// The state of one reducer's (already authenticated) connection.
struct ShuffleSession {
  std::unique_ptr<PartitionReader> reader;
  size_t chunk_bytes = kChunkBytes;
};

void SendChunk(Channel& ch, ShuffleSession& s) {
  proto::Envelope e;
  auto* chunk = e.mutable_fetch_chunk();
  Status fp = Failpoint("shuffle.serve");
  auto more = fp.ok() ? s.reader->NextChunk(chunk->mutable_blocks(), s.chunk_bytes) : Result<bool>(fp);
  if (!more.ok()) {
    chunk->clear_blocks();
    chunk->set_error(more.status().ToString());
    chunk->set_corrupt(more.status().code() == Status::Code::kCorruption);
    chunk->set_last(true);
    s.reader.reset();
  } else if (!*more) {
    chunk->set_last(true);
    s.reader.reset();
  }
  if (!chunk->blocks().empty() && !Failpoint("shuffle.corrupt").ok()) {
    // A bit flipped on its way, as a bad disk or memory would: the reducer's check must catch it.
    std::string& bytes = *chunk->mutable_blocks();
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  }
  ch.Send(e);
}

}  // namespace

Status ShuffleServer::Listen(const HostPort& addr) {
  auto server = RpcServer::Start(
      io_, "shuffle", addr, tls_, {proto::ROLE_SHUFFLE},
      [this](const std::shared_ptr<Channel>& ch, proto::Role) { return OnReady(ch); }, options_, timers_);
  if (!server.ok()) return server.status();
  server_ = *server;
  return Status::OK();
}

void ShuffleServer::Stop() {
  if (server_) server_->Stop();
}

ChannelHandlers ShuffleServer::OnReady(const std::shared_ptr<Channel>& channel) {
  auto session = std::make_shared<ShuffleSession>();
  Channel* ch = channel.get();  // the handlers belong to the channel: it outlives every call
  IntermediateStore* store = store_;
  return {[ch, session, store](proto::Envelope& msg) {
            if (msg.has_fetch_request()) {
              const auto& r = msg.fetch_request();
              auto secret = store->JobSecret(r.job_id());
              if (!secret.ok() || !ConstantTimeEquals(*secret, r.shuffle_secret())) {
                std::string why = fmt::format("job {}: the fetch does not show the job's shuffle secret", r.job_id());
                spdlog::warn("shuffle: refused {}: {}", ch->peer(), why);
                proto::Envelope e;
                e.mutable_fetch_chunk()->set_error(why);
                e.mutable_fetch_chunk()->set_last(true);
                ch->Send(e);
                ch->CloseAfterFlush(why);
                return;
              }
              auto reader = store->ReadPartition({r.job_id(), r.map_index(), r.attempt()}, r.partition(),
                                                 CodecOf(r.intermediate_codec()));
              if (!reader.ok()) {
                spdlog::warn("shuffle: job {} map {} attempt {} partition {} for {}: {}", r.job_id(),
                             r.map_index(), r.attempt(), r.partition(), ch->peer(), reader.status().message());
                proto::Envelope e;
                e.mutable_fetch_chunk()->set_error(reader.status().message());
                e.mutable_fetch_chunk()->set_corrupt(reader.status().code() == Status::Code::kCorruption);
                e.mutable_fetch_chunk()->set_last(true);
                ch->Send(e);
                return;
              }
              session->reader = std::move(*reader);
              session->chunk_bytes = r.max_chunk_bytes() == 0
                                         ? kChunkBytes
                                         : std::clamp<size_t>(r.max_chunk_bytes(), kMinChunkBytes, kChunkBytes);
              SendChunk(*ch, *session);
            } else if (msg.has_fetch_next() && session->reader) {
              SendChunk(*ch, *session);
            } else {
              std::string reason = fmt::format("unexpected {} on a shuffle connection", MessageName(msg));
              spdlog::warn("shuffle: closing {}: {}", ch->peer(), reason);
              ch->Close(reason);
            }
          },
          [ch, session](const std::string& reason) {
            session->reader.reset();
            spdlog::debug("shuffle: {} closed: {}", ch->peer(), reason);
          }};
}

}  // namespace mr
