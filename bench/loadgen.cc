// loadgen: simulated workers speaking the real worker protocol to a master (docs/protocol.md), for
// the scale benchmark (bench/scale.sh). Each simulated worker connects, does the hello exchange
// with the token, registers (a fresh identity, 1 slot by default), heartbeats every --heartbeat
// (each with its own phase) and, depending on --mode, either
//   hold: keeps every task it is given and never reports (its slots stay busy), or
//   ack:  reports every task a success after --ack-delay, with no real output: a map reports
//         counters only, a reduce writes an empty attempt file where a worker would (the master
//         commits it), so a job of many tasks measures the master alone.
// Connections open at --ramp per second; a closed connection reconnects after 1-2 s (a fresh
// registration with the same identity and incarnation). Every 5 s it prints one line of counts.
// Each simulated worker holds one socket: the process raises its soft open-file limit to the hard
// one, and refuses more workers than that allows (run more processes instead).
// Usage: loadgen --master HOST:PORT [--token-file F] [--workers N] [--slots S] [--mode hold|ack]
//                [--ack-delay 0ms] [--heartbeat 1s] [--ramp 500] [--name PREFIX] [--duration 0]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/channel.h"
#include "common/credentials.h"
#include "common/rpc_client.h"
#include "common/tls.h"
#include "common/fd_limit.h"
#include "common/handshake.h"
#include "common/output_layout.h"
#include "common/units.h"

namespace mr {
namespace {

struct Options {
  HostPort master;
  std::shared_ptr<TlsContext> tls;
  uint32_t workers = 1000;
  uint32_t slots = 1;
  bool ack = false;
  std::chrono::milliseconds ack_delay{0};
  std::chrono::milliseconds heartbeat{1000};
  uint32_t ramp = 500;  // connections opened per second
  std::string name = "sim";
  std::chrono::seconds duration{0};  // 0: run until killed
};

struct Stats {
  uint64_t connected = 0, registered = 0, closed = 0, heartbeats = 0, assigned = 0, reported = 0, ended = 0;
};

class SimWorker : public std::enable_shared_from_this<SimWorker> {
 public:
  SimWorker(asio::io_context& io, const Options& o, Stats& stats, uint32_t index)
      : io_(io), o_(o), stats_(stats), index_(index), heartbeat_(io), retry_(io) {}

  void Connect() {
    auto self = shared_from_this();
    ConnectRpc(io_, o_.master, o_.tls, proto::ROLE_WORKER, [self](Result<std::shared_ptr<Channel>> c) -> ChannelHandlers {
      if (!c.ok()) {
        self->Retry();
        return {};
      }
      self->channel_ = *c;
      self->stats_.connected++;
      self->Register();
      return {[self](proto::Envelope& m) { self->OnMessage(m); }, [self](const std::string&) { self->OnClosed(); }};
    });
  }

 private:
  void OnMessage(proto::Envelope& m) {
    if (m.has_register_reply()) {
      stats_.registered++;
      registered_ = true;
      ArmHeartbeat(true);
    } else if (m.has_assign_task()) {
      stats_.assigned++;
      if (o_.ack) Ack(m.assign_task());
    } else if (m.has_job_ended()) {
      stats_.ended++;
    } else if (m.has_error()) {
      std::fprintf(stderr, "loadgen: worker %u: master says: %s\n", index_, m.error().message().c_str());
    }
  }

  void Register() {
    proto::Envelope e;
    proto::RegisterWorker* r = e.mutable_register_worker();
    r->set_shuffle_address("127.0.0.1:9");  // never fetched from: the tasks it runs have no output
    r->set_slots(o_.slots);
    // Its own name too: the master names a worker by its shuffle address otherwise, shared here.
    std::string id = o_.name + "-" + std::to_string(::getpid()) + "-" + std::to_string(index_);
    r->set_identity(id);
    r->set_name(id);
    r->set_incarnation(1);
    r->set_host("loadgen");
    channel_->Send(e);
  }

  void ArmHeartbeat(bool first) {
    // The first beat at a random phase, so N workers spread their beats over the period.
    auto period = o_.heartbeat;
    if (first) period = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(1, o_.heartbeat.count())(Rng()));
    heartbeat_.expires_after(period);
    auto self = shared_from_this();
    heartbeat_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || !self->channel_ || self->channel_->closed()) return;
      proto::Envelope e;
      e.mutable_heartbeat();
      self->channel_->Send(e);
      self->stats_.heartbeats++;
      self->ArmHeartbeat(false);
    });
  }

  void Ack(const proto::AssignTask& a) {
    auto timer = std::make_shared<asio::steady_timer>(io_, o_.ack_delay);
    auto self = shared_from_this();
    timer->async_wait([self, timer, a](const boost::system::error_code&) {
      if (!self->channel_ || self->channel_->closed()) return;
      proto::Envelope e;
      proto::TaskReport* r = e.mutable_task_report();
      r->set_job_id(a.job_id());
      r->set_kind(a.kind());
      r->set_index(a.index());
      r->set_attempt(a.attempt());
      r->set_ok(true);
      (*r->mutable_counters())["map.input.records"] = 1;
      if (a.kind() == proto::TASK_REDUCE) {
        std::string path = AttemptOutputFile(a.output_dir(), a.job_id(), a.index(), a.attempt());
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        std::ofstream(path, std::ios::trunc).flush();
        r->set_output_file(path);
      }
      self->channel_->Send(e);
      self->stats_.reported++;
    });
  }

  void OnClosed() {
    stats_.closed++;
    channel_.reset();
    registered_ = false;
    heartbeat_.cancel();
    Retry();
  }

  void Retry() {
    retry_.expires_after(std::chrono::milliseconds(std::uniform_int_distribution<int>(1000, 2000)(Rng())));
    auto self = shared_from_this();
    retry_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->Connect();
    });
  }

  static std::mt19937& Rng() {
    static std::mt19937 rng(static_cast<unsigned>(::getpid()));
    return rng;
  }

  asio::io_context& io_;
  const Options& o_;
  Stats& stats_;
  uint32_t index_;
  asio::steady_timer heartbeat_, retry_;
  std::shared_ptr<Channel> channel_;
  bool registered_ = false;
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --master HOST:PORT [--token-file F] [--workers N] [--slots S] "
               "[--mode hold|ack] [--ack-delay 0ms] [--heartbeat 1s] [--ramp 500] [--name PREFIX] [--duration 0]\n",
               why);
  return 2;
}

int Main(int argc, char** argv) {
  Options o;
  bool have_master = false;
  std::string token_file;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--master") {
      auto hp = ParseHostPort(v);
      if (!hp.ok()) return Usage(hp.status().message().c_str());
      o.master = *hp;
      have_master = true;
    } else if (a == "--token-file") {
      token_file = v;
    } else if (a == "--workers") {
      o.workers = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--slots") {
      o.slots = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--mode") {
      if (v != "hold" && v != "ack") return Usage("--mode is hold or ack");
      o.ack = v == "ack";
    } else if (a == "--ack-delay" || a == "--heartbeat") {
      auto d = ParseDuration(v);
      if (!d.ok()) return Usage(d.status().message().c_str());
      (a == "--ack-delay" ? o.ack_delay : o.heartbeat) = *d;
    } else if (a == "--ramp") {
      o.ramp = std::max(1u, static_cast<uint32_t>(std::stoul(v)));
    } else if (a == "--name") {
      o.name = v;
    } else if (a == "--duration") {
      o.duration = std::chrono::seconds(std::stoul(v));
    } else {
      return Usage(("unknown flag " + a).c_str());
    }
  }
  if (!have_master) return Usage("--master is required");
  // The token: --token-file, $MR_TOKEN, or the local token of a master this user started without one.
  auto token = LoadToken(token_file);
  if (!token.ok()) return Usage(token.status().message().c_str());
  if (token->empty()) {
    if (auto local = FindLocalToken(o.master.port)) *token = *local;
  }
  TlsOptions to;
  to.token = *token;
  auto tls = TlsContext::Make(std::move(to));
  if (!tls.ok()) return Usage(tls.status().message().c_str());
  o.tls = *tls;
  FdLimit lim = RaiseFdLimit();
  if (o.workers + 64 > lim.soft) {
    std::fprintf(stderr, "loadgen: %u workers need %u open files; the limit is %lu (raise it, or split the "
                 "workers over more processes)\n", o.workers, o.workers + 64, static_cast<unsigned long>(lim.soft));
    return 2;
  }

  asio::io_context io;
  Stats stats;
  std::vector<std::shared_ptr<SimWorker>> sims;
  for (uint32_t i = 0; i < o.workers; i++) sims.push_back(std::make_shared<SimWorker>(io, o, stats, i));
  // Open the connections at o.ramp per second, in batches every 100 ms.
  asio::steady_timer ramp(io), report(io), stop(io);
  size_t next = 0;
  std::function<void()> open_batch = [&] {
    size_t batch = std::max<size_t>(1, o.ramp / 10);
    for (size_t k = 0; k < batch && next < sims.size(); k++) sims[next++]->Connect();
    if (next < sims.size()) {
      ramp.expires_after(std::chrono::milliseconds(100));
      ramp.async_wait([&](const boost::system::error_code&) { open_batch(); });
    }
  };
  open_batch();
  auto start = std::chrono::steady_clock::now();
  std::function<void()> print = [&] {
    report.expires_after(std::chrono::seconds(5));
    report.async_wait([&](const boost::system::error_code&) {
      double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("t=%.0fs connected=%lu registered=%lu closed=%lu heartbeats=%lu assigned=%lu reported=%lu\n", t,
                  stats.connected, stats.registered, stats.closed, stats.heartbeats, stats.assigned, stats.reported);
      std::fflush(stdout);
      print();
    });
  };
  print();
  if (o.duration.count() > 0) {
    stop.expires_after(o.duration);
    stop.async_wait([&](const boost::system::error_code&) { io.stop(); });
  }
  io.run();
  return 0;
}

}  // namespace
}  // namespace mr

int main(int argc, char** argv) { return mr::Main(argc, argv); }
