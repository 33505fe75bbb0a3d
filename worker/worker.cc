#include "worker/worker.h"

#include <boost/asio/signal_set.hpp>

#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/address.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/data_dir.h"
#include "common/handshake.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "jobs/job.h"
#include "worker/intermediate_store.h"
#include "worker/map_task.h"
#include "worker/reduce_task.h"
#include "worker/shuffle_server.h"

namespace mr {
namespace {

using Millis = std::chrono::milliseconds;

std::string AttemptName(const proto::AssignTask& t) {
  return fmt::format("job-{}/{}{}/a{}", t.job_id(), t.kind() == proto::TASK_MAP ? "m" : "r",
                     t.index(), t.attempt());
}

class Worker {
 public:
  explicit Worker(const WorkerOptions& o)
      : opts_(o), heartbeat_timer_(io_), reconnect_timer_(io_), jitter_(std::random_device{}()) {}

  Status Run() {
    auto dir = DataDir::Lock(opts_.data_dir);
    if (!dir.ok()) return dir.status();
    data_dir_ = std::move(*dir);
    auto identity = data_dir_->NextIncarnation();
    if (!identity.ok()) return identity.status();
    identity_ = *identity;
    std::error_code ec;
    scratch_dir_ = opts_.data_dir + "/scratch";
    std::filesystem::remove_all(scratch_dir_, ec);
    auto store = IntermediateStore::Open(opts_.data_dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    MR_RETURN_IF_ERROR(CheckBindAllowed(opts_.listen.host, opts_.token, "--listen"));
    if (opts_.token.empty()) spdlog::info("no cluster token configured: shuffle server on loopback only");
    shuffle_ = std::make_unique<ShuffleServer>(shuffle_io_, store_.get(), opts_.token);
    MR_RETURN_IF_ERROR(shuffle_->Listen(opts_.listen));
    auto shuffle_work = asio::make_work_guard(shuffle_io_);
    shuffle_thread_ = std::thread([this] { shuffle_io_.run(); });
    spdlog::info("worker {} (incarnation {}): shuffle server on {}{}; {} slots, {} threads per map; master {}",
                 identity_.id, identity_.incarnation, shuffle_->address().ToString(),
                 opts_.advertise.empty() ? "" : ", advertised as " + opts_.advertise, opts_.slots, opts_.threads,
                 opts_.master.ToString());

    ::signal(SIGPIPE, SIG_IGN);  // a streaming command that exits early must not kill the worker
    // A file size limit (RLIMIT_FSIZE) reached makes the write fail with EFBIG, like a full disk:
    // the attempt fails and is retried elsewhere, instead of the worker being killed.
    ::signal(SIGXFSZ, SIG_IGN);
    for (int i = 0; i < opts_.slots; i++) executors_.emplace_back([this] { ExecutorLoop(); });
    boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([this](const error_code& e, int sig) {
      if (!e) spdlog::info("signal {}: stopping", sig);
      Stop();
    });
    Connect();
    asio::co_spawn(io_, HeartbeatLoop(), asio::detached);
    io_.run();

    {
      std::unique_lock<std::mutex> l(mu_);
      stopping_ = true;
      for (auto& r : running_) r->cancel = true;
      cv_.notify_all();
      // Attempts notice the cancel within moments; one stuck in user code or a hung disk must not
      // keep the process alive: its work is lost anyway, and the master reschedules it.
      if (!cv_.wait_for(l, std::chrono::seconds(3), [this] { return running_.empty(); })) {
        spdlog::warn("{} attempts did not stop in time; exiting anyway", running_.size());
        spdlog::default_logger()->flush();
        std::_Exit(0);
      }
    }
    for (auto& t : executors_) t.join();
    shuffle_work.reset();
    shuffle_io_.stop();
    shuffle_thread_.join();
    return Status::OK();
  }

 private:
  struct Queued {
    proto::AssignTask task;
  };
  struct RunningTask {
    proto::AssignTask task;
    std::atomic<bool> cancel{false};
  };

  void Stop() {
    asio::post(shuffle_io_, [this] { shuffle_->Stop(); });
    if (channel_) channel_->Close("worker stopping");
    io_.stop();
  }

  // Exponential backoff with jitter (250 ms doubling to 5 s; at least 2 s after a refusal), so a
  // master restarting under many workers is not hit by all of them at once.
  void ScheduleReconnect() {
    int64_t base = std::min<int64_t>(5000, int64_t{250} << std::min(connect_failures_, 5));
    if (refused_) base = std::max<int64_t>(base, 2000);
    refused_ = false;
    int64_t delay = base / 2 + std::uniform_int_distribution<int64_t>(0, base / 2)(jitter_);
    reconnect_timer_.expires_after(Millis(delay));
    reconnect_timer_.async_wait([this](const error_code& e) {
      if (!e) Connect();
    });
  }

  void Connect() {
    AsyncConnect(io_, opts_.master, [this](Result<std::shared_ptr<Channel>> r) {
      if (!r.ok()) {
        if (connect_failures_++ % 20 == 0) spdlog::warn("{}; retrying", r.status().message());
        ScheduleReconnect();
        return;
      }
      channel_ = *r;
      // Heartbeats are unacknowledged for this long only when the master is unreachable.
      channel_->SetUserTimeout(std::max<Millis>(Millis(3000), 3 * opts_.heartbeat));
      uint64_t gen = ++generation_;
      channel_->Start([this](proto::Envelope& m) { OnMessage(m); },
                      [this, gen](const std::string& reason) { OnClosed(gen, reason); });
      handshake_.emplace(opts_.token, proto::ROLE_WORKER);
      channel_->Send(handshake_->Hello());
    });
  }

  void OnClosed(uint64_t gen, const std::string& reason) {
    if (gen != generation_) return;
    spdlog::warn("lost the master ({}); reconnecting", reason);
    channel_.reset();
    worker_id_.clear();
    handshake_.reset();
    challenged_ = false;
    generation_++;
    connect_failures_++;
    ScheduleReconnect();
  }

  // The shuffle address for other hosts: --advertise, the listen host, or for a wildcard listen
  // this host's address on the master connection (the interface the cluster's network reaches).
  std::string AdvertisedAddress() const {
    HostPort a = shuffle_->address();
    if (!opts_.advertise.empty()) a.host = opts_.advertise;
    else if (IsWildcardHost(a.host) && channel_ && !channel_->local_host().empty()) a.host = channel_->local_host();
    return a.ToString();
  }

  proto::Envelope Registration() {
    proto::Envelope e;
    auto* rw = e.mutable_register_worker();
    rw->set_shuffle_address(AdvertisedAddress());
    rw->set_slots(opts_.slots);
    rw->set_identity(identity_.id);
    rw->set_incarnation(identity_.incarnation);
    char host[256] = {0};
    if (::gethostname(host, sizeof(host) - 1) == 0) rw->set_host(host);
    rw->set_pid(static_cast<uint32_t>(::getpid()));
    auto held = store_->ListMapOutputs();
    if (held.ok()) {
      for (const MapOutputId& id : *held) {
        auto* h = rw->add_held_outputs();
        h->set_job_id(id.job);
        h->set_map_index(id.map);
        h->set_attempt(id.attempt);
      }
    } else {
      spdlog::warn("cannot list the map outputs in the store: {}", held.status().message());
    }
    auto jobs = store_->ListJobs();
    if (jobs.ok()) {
      for (uint64_t j : *jobs) rw->add_jobs_with_data(j);
    }
    return e;
  }

  void OnMessage(proto::Envelope& m) {
    if (m.has_auth_challenge() || (m.has_hello_reply() && handshake_ && !challenged_)) {
      if (!handshake_) return channel_->Close("unexpected auth_challenge");
      auto resp = handshake_->OnChallenge(m);
      if (!resp.ok()) {
        spdlog::error("cannot join the master at {}: {}", opts_.master.ToString(), resp.status().message());
        refused_ = true;
        return channel_->Close(resp.status().message());
      }
      challenged_ = true;
      channel_->Send(*resp);
    } else if (m.has_hello_reply()) {
      Status st = handshake_ ? handshake_->OnReply(m) : Status::Protocol("unexpected hello_reply");
      handshake_.reset();
      challenged_ = false;
      if (!st.ok()) {
        std::string why = st.message();
        if (why == kAuthFailed && opts_.token.empty()) why += " (no cluster token given: use --token-file or MR_TOKEN)";
        spdlog::error("cannot join the master at {}: {}", opts_.master.ToString(), why);
        refused_ = true;  // retried, but slowly: an operator has to fix the token
        return channel_->Close(why);
      }
      channel_->Send(Registration());
    } else if (m.has_register_reply()) {
      worker_id_ = m.register_reply().worker_id();
      connect_failures_ = 0;
      spdlog::info("registered with the master as {}", worker_id_);
      SetLogName("worker " + worker_id_);  // later lines say which worker wrote them
      for (uint64_t job : m.register_reply().drop_jobs()) DropJob(job, "it is over");
      SendHeartbeat();
      // Reports of attempts that ended while the master was out of reach.
      if (!undelivered_.empty()) spdlog::info("sending {} reports held while the master was away", undelivered_.size());
      while (!undelivered_.empty()) {
        channel_->Send(undelivered_.front());
        undelivered_.pop_front();
      }
    } else if (m.has_assign_task()) {
      spdlog::info("{} assigned", AttemptName(m.assign_task()));
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back({std::move(*m.mutable_assign_task())});
      cv_.notify_one();
    } else if (m.has_job_ended()) {
      DropJob(m.job_ended().job_id(), "it ended");
    } else if (m.has_error()) {
      if (worker_id_.empty()) {
        spdlog::error("the master at {} refused this worker: {}", opts_.master.ToString(), m.error().message());
        refused_ = true;  // retried, but slowly: an operator has to fix the configuration
      } else {
        spdlog::error("master: {}", m.error().message());
      }
    } else {
      spdlog::warn("unexpected {} from the master", MessageName(m));
    }
  }

  void DropJob(uint64_t job, const char* why) {
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& r : running_) {
        if (r->task.job_id() == job) r->cancel = true;
      }
      std::erase_if(queue_, [job](const Queued& q) { return q.task.job_id() == job; });
    }
    std::erase_if(undelivered_, [job](const proto::Envelope& e) { return e.task_report().job_id() == job; });
    Status s = store_->DropJob(job);
    if (!s.ok()) spdlog::warn("job {}: cannot drop intermediate data: {}", job, s.message());
    else spdlog::info("job {}: {}; its intermediate data is dropped", job, why);
  }

  void SendHeartbeat() {
    if (!channel_ || worker_id_.empty()) return;
    proto::Envelope hb;
    hb.mutable_heartbeat();
    channel_->Send(hb);
  }

  asio::awaitable<void> HeartbeatLoop() {
    asio::steady_timer t(io_);
    while (true) {
      t.expires_after(opts_.heartbeat);
      error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      SendHeartbeat();
    }
  }

  void ExecutorLoop() {
    while (true) {
      std::shared_ptr<RunningTask> run;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        run = std::make_shared<RunningTask>();
        run->task = std::move(queue_.front().task);
        queue_.pop_front();
        running_.push_back(run);
      }
      proto::Envelope report = Execute(*run);
      {
        std::lock_guard<std::mutex> l(mu_);
        running_.remove(run);
      }
      cv_.notify_all();
      // A report that cannot go out now waits for the next registration: the master accepts the
      // result of an attempt it had given up on when the task is still not done.
      asio::post(io_, [this, report = std::move(report)] {
        if (channel_ && !worker_id_.empty()) {
          channel_->Send(report);
          return;
        }
        if (undelivered_.size() >= kMaxUndelivered) undelivered_.pop_front();
        undelivered_.push_back(report);
      });
    }
  }

  proto::Envelope Execute(RunningTask& run) {
    const proto::AssignTask& t = run.task;
    auto start = std::chrono::steady_clock::now();
    proto::Envelope e;
    auto* rep = e.mutable_task_report();
    rep->set_job_id(t.job_id());
    rep->set_kind(t.kind());
    rep->set_index(t.index());
    rep->set_attempt(t.attempt());
    JobDefinition def{t.job_name(), JobArgs(t.args().begin(), t.args().end()), t.job_lib(), t.mapper(),
                      t.reducer(), t.combiner()};
    Status status;
    CounterSet counters;
    auto job = MakeJob(def);
    if (!job.ok()) {
      status = job.status();
    } else if (t.kind() == proto::TASK_MAP) {
      MapOptions mo{opts_.threads, opts_.map_buffer_bytes, &run.cancel};
      auto r = RunMapTask(t, **job, store_.get(), mo);
      if (r.ok()) counters = std::move(*r);
      else status = r.status();
    } else {
      ReduceOptions ro{scratch_dir_, 64ull << 20, &run.cancel, opts_.token, opts_.merge_factor};
      ReduceFailure failure;
      auto r = RunReduceTask(t, **job, ro, &failure);
      if (r.ok()) {
        counters = std::move(r->counters);
        rep->set_output_file(r->output_file);
      } else {
        status = r.status();
        for (uint32_t m : failure.failed_maps) rep->add_failed_maps(m);
        for (const auto& loc : failure.failed_fetches) *rep->add_failed_fetches() = loc;
      }
    }
    if (status.ok()) status = Failpoint(t.kind() == proto::TASK_MAP ? FailpointName("map.before_report") : FailpointName("reduce.before_commit"));
    auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start).count();
    rep->set_ok(status.ok());
    if (status.ok()) {
      for (auto& [k, v] : counters.values()) (*rep->mutable_counters())[k] = v;
      spdlog::info("{} succeeded in {} ms", AttemptName(t), ms);
    } else {
      rep->set_error(status.message());
      spdlog::warn("{} failed after {} ms: {}", AttemptName(t), ms, status.message());
    }
    return e;
  }

  static constexpr size_t kMaxUndelivered = 4096;

  WorkerOptions opts_;
  std::unique_ptr<DataDir> data_dir_;
  DataDir::Identity identity_;
  asio::io_context io_;
  asio::io_context shuffle_io_;  // the shuffle server's own thread
  std::thread shuffle_thread_;
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer reconnect_timer_;
  std::unique_ptr<IntermediateStore> store_;
  std::unique_ptr<ShuffleServer> shuffle_;
  std::string scratch_dir_;
  // io thread only:
  std::shared_ptr<Channel> channel_;
  std::optional<ClientHandshake> handshake_;  // while the master connection's hello is under way
  bool challenged_ = false;
  bool refused_ = false;  // the last hello exchange failed
  uint64_t generation_ = 0;
  std::string worker_id_;
  int connect_failures_ = 0;
  std::deque<proto::Envelope> undelivered_;  // reports waiting for a registration
  std::mt19937_64 jitter_;
  // Executor state, protected by mu_:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  std::list<std::shared_ptr<RunningTask>> running_;
  bool stopping_ = false;
  std::vector<std::thread> executors_;
};

}  // namespace

Status RunWorker(const WorkerOptions& options) {
  Worker w(options);
  return w.Run();
}

}  // namespace mr
