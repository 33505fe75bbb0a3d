#include "worker/shuffle_fetch.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/block.h"
#include "common/channel.h"
#include "common/log.h"
#include "common/rpc_client.h"
#include "common/sync_client.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

constexpr int kFetchTries = 3;
constexpr Millis kFetchTimeout{30000};
// Connecting and the hello are quick on any network that works; a host that does not answer (cut
// off, or gone) must cost seconds, not minutes, before the master hears of it.
constexpr Millis kConnectTimeout{3000};
// Connections a fetch thread keeps open for reuse (each costs a socket and an epoll instance): on a
// large cluster a thread fetches from many hosts, and its open files must not grow with them.
constexpr size_t kMaxClientsPerThread = 8;

// The request that opens the stream of this reduce task's partition of one map output.
proto::Envelope FetchRequestFor(const proto::AssignTask& task, const proto::MapOutputLocation& loc,
                                uint64_t chunk_bytes) {
  proto::Envelope req;
  auto* r = req.mutable_fetch_request();
  r->set_job_id(task.job_id());
  r->set_map_index(loc.map_index());
  r->set_attempt(loc.attempt());
  r->set_partition(task.index());
  r->set_max_chunk_bytes(chunk_bytes);
  r->set_shuffle_secret(task.shuffle_secret());
  r->set_intermediate_codec(task.intermediate_codec());
  return req;
}

struct Fetched {
  uint64_t bytes = 0;      // blocks
  uint64_t raw_bytes = 0;  // records in them
};

// Copies one map output's partition into `path`, checking every block. Returns the bytes copied.
Result<Fetched> FetchOne(SyncClient* client, const proto::AssignTask& task, const proto::MapOutputLocation& loc,
                          const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!out) return Status::IoError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  std::setvbuf(out.get(), nullptr, _IONBF, 0);  // chunks are large: write them as they come
  proto::Envelope req = FetchRequestFor(task, loc, 0);
  proto::Envelope next;
  next.mutable_fetch_next();
  Fetched got;
  const proto::Envelope* send = &req;
  while (true) {
    auto reply = client->Call(*send, kFetchTimeout);
    if (!reply.ok()) return reply.status();
    if (!reply->has_fetch_chunk()) return Status::Protocol("shuffle server sent " + MessageName(*reply));
    const auto& chunk = reply->fetch_chunk();
    if (chunk.corrupt()) return Status::Corruption(chunk.error());
    if (!chunk.error().empty()) return Status::Unavailable(chunk.error());
    auto raw = CheckBlocks(chunk.blocks());
    if (!raw.ok()) return raw.status();
    if (!chunk.blocks().empty() &&
        std::fwrite(chunk.blocks().data(), 1, chunk.blocks().size(), out.get()) != chunk.blocks().size()) {
      return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    got.bytes += chunk.blocks().size();
    got.raw_bytes += *raw;
    if (chunk.last()) break;
    send = &next;
  }
  if (std::fflush(out.get()) != 0) return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  return got;
}

}  // namespace

Result<std::vector<proto::MapOutputLocation>> MapOutputsOf(const proto::AssignTask& task) {
  std::vector<proto::MapOutputLocation> out;
  out.reserve(MapOutputCount(task));
  for (const proto::MapOutputGroup& g : task.map_output_groups()) {
    if (g.map_indexes_size() != g.attempts_size()) {
      return Status::Protocol(fmt::format("the map outputs on {} name {} maps and {} attempts", g.address(),
                                          g.map_indexes_size(), g.attempts_size()));
    }
    for (int i = 0; i < g.map_indexes_size(); i++) {
      proto::MapOutputLocation& loc = out.emplace_back();
      loc.set_map_index(g.map_indexes(i));
      loc.set_address(g.address());
      loc.set_attempt(g.attempts(i));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.map_index() < b.map_index(); });
  return out;
}

size_t MapOutputCount(const proto::AssignTask& task) {
  size_t n = 0;
  for (const proto::MapOutputGroup& g : task.map_output_groups()) n += g.map_indexes_size();
  return n;
}

Result<FetchedRuns> FetchMapOutputs(const proto::AssignTask& task, const std::vector<proto::MapOutputLocation>& outputs,
                                    const FetchOptions& options, std::vector<uint32_t>* failed_maps, bool* corrupt) {
  const int n = static_cast<int>(outputs.size());
  std::vector<std::string> paths(n);
  std::vector<uint64_t> sizes(n, 0);
  std::atomic<int> next{0};
  std::atomic<int64_t> total{0}, total_raw{0};
  std::mutex mu;
  Status first_error;  // guarded by mu
  std::atomic<bool> stop{false};

  auto worker = [&] {
    std::map<std::string, std::unique_ptr<SyncClient>> clients;  // this thread's connections
    for (int i = next++; i < n && !stop; i = next++) {
      if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> l(mu);
        if (first_error.ok()) first_error = Status::Aborted("attempt cancelled");
        stop = true;
        return;
      }
      const auto& loc = outputs[i];
      std::string path = fmt::format("{}/map-{:05}.run", options.scratch_dir, loc.map_index());
      Status last;
      bool done = false;
      for (int attempt = 0; attempt < kFetchTries && !done && !stop; attempt++) {
        if (attempt > 0) std::this_thread::sleep_for(Millis(100 << attempt));  // back off, then retry
        if (!clients.contains(loc.address()) && clients.size() >= kMaxClientsPerThread) {
          clients.erase(clients.begin());  // any other host's: close it before opening one more
        }
        auto& client = clients[loc.address()];
        if (!client) {
          auto hp = ParseHostPort(loc.address());
          if (!hp.ok()) {
            last = hp.status();
            break;
          }
          auto c = SyncClient::Connect(*hp, proto::ROLE_SHUFFLE, options.tls, kConnectTimeout);
          if (!c.ok()) {
            last = c.status();
            continue;
          }
          client = std::move(*c);
        }
        auto got = FetchOne(client.get(), task, loc, path);
        if (got.ok()) {
          sizes[i] = got->bytes;
          paths[i] = path;
          total += static_cast<int64_t>(got->bytes);
          total_raw += static_cast<int64_t>(got->raw_bytes);
          done = true;
        } else {
          last = got.status();
          client.reset();
          // Bytes that fail their check say the copy is bad (or was damaged on the way): the
          // master runs the map again at once rather than this attempt fetching it again.
          if (last.code() == Status::Code::kCorruption) break;
          spdlog::info("job {} reduce {}: fetching map {} from {} failed ({}); trying again", task.job_id(),
                       task.index(), loc.map_index(), loc.address(), last.message());
        }
      }
      if (!done && !stop) {
        std::lock_guard<std::mutex> l(mu);
        if (first_error.ok()) {
          failed_maps->push_back(loc.map_index());
          *corrupt = last.code() == Status::Code::kCorruption;
          first_error = Status::Unavailable(fmt::format("cannot fetch the output of map {} from {}: {}",
                                                        loc.map_index(), loc.address(), last.message()));
        }
        stop = true;
        return;
      }
    }
  };
  int threads = std::clamp(options.parallel, 1, std::max(1, n));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (!first_error.ok()) return first_error;
  FetchedRuns out;
  out.bytes = total;
  out.raw_bytes = total_raw;
  for (int i = 0; i < n; i++) {
    if (sizes[i] > 0) out.runs.push_back(paths[i]);
  }
  return out;
}

FetchStreams::FetchStreams(std::shared_ptr<TlsContext> tls)
    : tls_(std::move(tls)), io_(std::make_unique<asio::io_context>()) {
  work_.emplace(asio::make_work_guard(*io_));
  thread_ = std::thread([this] { io_->run(); });
}

FetchStreams::~FetchStreams() {
  // Close every connection on the loop, then stop it; what is still pending goes with io_.
  asio::post(*io_, [this] {
    for (auto& s : streams_) {
      if (s->channel_) s->channel_->Close("the reduce attempt is done with it");
    }
  });
  asio::post(*io_, [this] { io_->stop(); });
  work_.reset();
  thread_.join();
  // A channel's timers belong to io_: drop the streams' hold on them first. Handlers still
  // pending in io_ (they may keep a channel alive) are destroyed with it, never run.
  for (auto& s : streams_) s->channel_.reset();
  io_.reset();
}

std::vector<Status> FetchStreams::Open(const proto::AssignTask& task,
                                       const std::vector<proto::MapOutputLocation>& locations, uint64_t chunk_bytes) {
  request_ = FetchRequestFor(task, proto::MapOutputLocation{}, chunk_bytes);
  for (const auto& loc : locations) streams_.push_back(std::unique_ptr<FetchStream>(new FetchStream(this, loc)));
  asio::post(*io_, [this] {
    for (auto& s : streams_) Connect(s.get());
  });
  std::vector<Status> out;
  std::unique_lock<std::mutex> l(mu_);
  for (auto& s : streams_) {
    cv_.wait(l, [&] { return s->opened_; });
    out.push_back(s->ended_ && !s->status_.ok() ? s->status_ : Status::OK());
  }
  return out;
}

void FetchStreams::Connect(FetchStream* s) {
  auto hp = ParseHostPort(s->loc_.address());
  if (!hp.ok()) return End(s, hp.status());
  ConnectOptions co;
  co.timeout = kConnectTimeout;
  co.limits.frame_timeout = kFetchTimeout;
  ConnectRpc(*io_, *hp, tls_, proto::ROLE_SHUFFLE, [this, s](Result<std::shared_ptr<Channel>> r) -> ChannelHandlers {
    if (!r.ok()) {
      if (++s->tries_ < kFetchTries) {
        spdlog::info("job {} reduce {}: fetching map {} from {} failed ({}); trying again", request_.fetch_request().job_id(),
                     request_.fetch_request().partition(), s->loc_.map_index(), s->loc_.address(), r.status().message());
        auto timer = std::make_shared<asio::steady_timer>(*io_, Millis(100 << s->tries_));
        timer->async_wait([this, s, timer](const error_code& e) {
          if (!e) Connect(s);
        });
      } else {
        End(s, r.status());
      }
      return {};
    }
    s->channel_ = *r;
    proto::Envelope req = request_;
    req.mutable_fetch_request()->set_map_index(s->loc_.map_index());
    req.mutable_fetch_request()->set_attempt(s->loc_.attempt());
    s->channel_->Send(req);
    {
      std::lock_guard<std::mutex> l(mu_);
      s->opened_ = true;
    }
    cv_.notify_all();
    return {[this, s](proto::Envelope& m) { OnChunk(s, m); },
            [this, s](const std::string& reason) {
              End(s, Status::Unavailable(fmt::format("connection to {} lost: {}", s->loc_.address(), reason)));
            }};
  }, co);
}

void FetchStreams::OnChunk(FetchStream* s, proto::Envelope& m) {
  if (m.has_error()) return End(s, Status::Unavailable(m.error().message()));
  if (!m.has_fetch_chunk()) return End(s, Status::Protocol("shuffle server sent " + MessageName(m)));
  auto* chunk = m.mutable_fetch_chunk();
  if (chunk->corrupt()) return End(s, Status::Corruption(chunk->error()));
  if (!chunk->error().empty()) return End(s, Status::Unavailable(chunk->error()));
  bool room;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (s->ended_) return;
    s->bytes_ += chunk->blocks().size();
    s->ready_.push_back(std::move(*chunk->mutable_blocks()));
    s->ended_ = chunk->last();
    room = s->ready_.size() < FetchStream::kStreamAhead;
  }
  cv_.notify_all();
  if (chunk->last()) {
    s->channel_->Close("stream complete");
    return;
  }
  // Ask for the next chunk only when there is room for it.
  if (room) SendNext(s);
  else s->next_pending_ = true;
}

void FetchStreams::SendNext(FetchStream* s) {
  s->next_pending_ = false;
  proto::Envelope next;
  next.mutable_fetch_next();
  if (s->channel_) s->channel_->Send(next);
}

void FetchStreams::End(FetchStream* s, Status status) {
  {
    std::lock_guard<std::mutex> l(mu_);
    s->opened_ = true;
    if (s->ended_) return;
    s->ended_ = true;
    s->status_ = std::move(status);
  }
  cv_.notify_all();
  if (s->channel_) s->channel_->Close("fetch failed");
}

Result<bool> FetchStream::Next(std::string* chunk) {
  while (left_.empty()) {
    std::unique_lock<std::mutex> l(owner_->mu_);
    owner_->cv_.wait(l, [this] { return !ready_.empty() || ended_; });
    if (ready_.empty()) {
      if (!status_.ok()) return status_;
      return false;
    }
    current_ = std::move(ready_.front());
    ready_.pop_front();
    left_ = current_;
    // Room again: the loop sends the request for the next chunk if it held one back.
    asio::post(*owner_->io_, [this] {
      if (next_pending_) owner_->SendNext(this);
    });
  }
  chunk->clear();
  MR_RETURN_IF_ERROR(DecodeBlock(&left_, chunk));
  raw_bytes_ += chunk->size();
  return true;
}

}  // namespace mr
