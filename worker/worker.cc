#include "worker/worker.h"

#include <boost/asio/signal_set.hpp>

#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "common/auth.h"
#include "common/channel.h"
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
  explicit Worker(const WorkerOptions& o) : opts_(o), heartbeat_timer_(io_), reconnect_timer_(io_) {}

  Status Run() {
    std::error_code ec;
    std::filesystem::create_directories(opts_.data_dir, ec);
    if (ec) return Status::IoError(fmt::format("cannot create {}: {}", opts_.data_dir, ec.message()));
    scratch_dir_ = opts_.data_dir + "/scratch";
    std::filesystem::remove_all(scratch_dir_, ec);
    auto store = IntermediateStore::Open(opts_.data_dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    MR_RETURN_IF_ERROR(CheckBindAllowed(opts_.listen.host, opts_.token, "--listen"));
    if (opts_.token.empty()) spdlog::info("no cluster token configured: shuffle server on loopback only");
    shuffle_ = std::make_unique<ShuffleServer>(io_, store_.get(), opts_.token);
    MR_RETURN_IF_ERROR(shuffle_->Listen(opts_.listen));
    spdlog::info("shuffle server on {}; {} slots, {} threads per map; master {}",
                 shuffle_->address().ToString(), opts_.slots, opts_.threads, opts_.master.ToString());

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
    return Status::OK();
  }

 private:
  struct Queued {
    proto::AssignTask task;
    uint64_t generation;  // of the master connection that assigned it
  };
  struct RunningTask {
    proto::AssignTask task;
    uint64_t generation = 0;
    std::atomic<bool> cancel{false};
  };

  void Stop() {
    shuffle_->Stop();
    if (channel_) channel_->Close("worker stopping");
    io_.stop();
  }

  void Connect() {
    AsyncConnect(io_, opts_.master, [this](Result<std::shared_ptr<Channel>> r) {
      if (!r.ok()) {
        if (connect_failures_++ % 20 == 0) spdlog::warn("{}; retrying", r.status().message());
        reconnect_timer_.expires_after(Millis(250));
        reconnect_timer_.async_wait([this](const error_code& e) {
          if (!e) Connect();
        });
        return;
      }
      connect_failures_ = 0;
      channel_ = *r;
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
    reconnect_timer_.expires_after(Millis(refused_ ? 2000 : 250));
    refused_ = false;
    reconnect_timer_.async_wait([this](const error_code& e) {
      if (!e) Connect();
    });
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
      proto::Envelope reg;
      reg.mutable_register_worker()->set_shuffle_address(shuffle_->address().ToString());
      reg.mutable_register_worker()->set_slots(opts_.slots);
      channel_->Send(reg);
    } else if (m.has_register_reply()) {
      worker_id_ = m.register_reply().worker_id();
      spdlog::info("registered with the master as {}", worker_id_);
      SetLogName("worker " + worker_id_);  // later lines say which worker wrote them
      SendHeartbeat();
    } else if (m.has_assign_task()) {
      spdlog::info("{} assigned", AttemptName(m.assign_task()));
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back({std::move(*m.mutable_assign_task()), generation_});
      cv_.notify_one();
    } else if (m.has_job_ended()) {
      uint64_t job = m.job_ended().job_id();
      {
        std::lock_guard<std::mutex> l(mu_);
        for (auto& r : running_) {
          if (r->task.job_id() == job) r->cancel = true;
        }
        std::erase_if(queue_, [job](const Queued& q) { return q.task.job_id() == job; });
      }
      Status s = store_->DropJob(job);
      if (!s.ok()) spdlog::warn("job {}: cannot drop intermediate data: {}", job, s.message());
      else spdlog::info("job {} ended; its intermediate data is dropped", job);
    } else if (m.has_error()) {
      spdlog::error("master: {}", m.error().message());
    } else {
      spdlog::warn("unexpected {} from the master", MessageName(m));
    }
  }

  void SendHeartbeat() {
    if (!channel_ || worker_id_.empty()) return;
    proto::Envelope hb;
    std::lock_guard<std::mutex> l(mu_);
    int busy = static_cast<int>(running_.size() + queue_.size());
    hb.mutable_heartbeat()->set_free_slots(std::max(0, opts_.slots - busy));
    for (auto& r : running_) hb.mutable_heartbeat()->add_running_attempts(AttemptName(r->task));
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
        run->generation = queue_.front().generation;
        queue_.pop_front();
        running_.push_back(run);
      }
      proto::Envelope report = Execute(*run);
      {
        std::lock_guard<std::mutex> l(mu_);
        running_.remove(run);
      }
      cv_.notify_all();
      // A report for an earlier master connection is dropped: that registration is gone.
      asio::post(io_, [this, gen = run->generation, report = std::move(report)] {
        if (channel_ && gen == generation_ && !worker_id_.empty()) channel_->Send(report);
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
      ReduceOptions ro{scratch_dir_, 64ull << 20, &run.cancel, opts_.token};
      ReduceFailure failure;
      auto r = RunReduceTask(t, **job, ro, &failure);
      if (r.ok()) {
        counters = std::move(r->counters);
        rep->set_output_file(r->output_file);
      } else {
        status = r.status();
        for (uint32_t m : failure.failed_maps) rep->add_failed_maps(m);
      }
    }
    if (status.ok()) status = Failpoint(t.kind() == proto::TASK_MAP ? "map.before_report" : "reduce.before_commit");
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

  WorkerOptions opts_;
  asio::io_context io_;
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
