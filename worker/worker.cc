#include "worker/worker.h"

#include <boost/asio/signal_set.hpp>

#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/address.h"
#include "common/channel.h"
#include "common/credentials.h"
#include "common/data_dir.h"
#include "common/handshake.h"
#include "common/rpc_client.h"
#include "common/tls.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/output_layout.h"
#include "common/process.h"
#include "jobs/job.h"
#include "worker/intermediate_store.h"
#include "worker/job_file_cache.h"
#include "worker/map_task.h"
#include "worker/reduce_task.h"
#include "worker/shuffle_fetch.h"
#include "worker/shuffle_server.h"
#include "worker/task_process.h"
#include "worker/task_report.h"

namespace mr {

using Millis = std::chrono::milliseconds;

namespace {

// How long an attempt waits for its job's files from the master.
constexpr Millis kJobFileTimeout{60000};

// An attempt's working directory: removed, with what the attempt left in it, when it ends.
struct WorkDir {
  explicit WorkDir(std::string p) : path(std::move(p)) {}
  ~WorkDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  std::string path;
};

}  // namespace

class Worker::Impl {
 public:
  Impl(asio::io_context& io, WorkerOptions o, TimerSource* timers)
      : opts_(std::move(o)),
        io_(io),
        own_timers_(timers ? nullptr : std::make_unique<AsioTimerSource>(io)),
        timers_(timers ? timers : own_timers_.get()),
        jitter_(std::random_device{}()) {}

  ~Impl() {
    Stop();
    (void)Join(std::chrono::milliseconds::max());
  }

  HostPort shuffle_address() const { return shuffle_ ? shuffle_->address() : HostPort{}; }
  const std::string& worker_id() const { return worker_id_; }

  Status Start() {
    auto dir = DataDir::Lock(opts_.data_dir);
    if (!dir.ok()) return dir.status();
    data_dir_ = std::move(*dir);
    auto identity = data_dir_->NextIncarnation();
    if (!identity.ok()) return identity.status();
    identity_ = *identity;
    std::error_code ec;
    scratch_dir_ = opts_.data_dir + "/scratch";
    std::filesystem::remove_all(scratch_dir_, ec);
    // Asked from an executor thread; the request goes out on the io thread, on the connection of
    // the moment (none: the fetch fails at once, and its attempt is retried).
    files_ = std::make_unique<JobFileCache>(scratch_dir_ + "/files", [this](uint64_t job, const std::string& sha) {
      asio::post(io_, [this, job, sha, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired()) return;
        proto::Envelope e;
        if (!channel_ || worker_id_.empty()) {
          e.mutable_job_file()->set_sha256(sha);
          e.mutable_job_file()->set_error("this worker is not connected to the master");
          files_->Deliver(e.job_file());
          return;
        }
        e.mutable_get_job_file()->set_job_id(job);
        e.mutable_get_job_file()->set_sha256(sha);
        channel_->Send(e);
      });
    });
    auto store = IntermediateStore::Open(opts_.data_dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    if (!opts_.tls) opts_.tls = TlsContext::Ephemeral();
    if (!opts_.tls->has_cluster_credential()) {
      return Status::InvalidArgument("a worker needs the cluster token (or a certificate), not a user's token");
    }
    MR_RETURN_IF_ERROR(CheckBindAllowed(opts_.listen.host, opts_.local_only || opts_.tls->plaintext(), "--listen"));
    if (opts_.local_only) spdlog::info("using the local master's token: shuffle server on loopback only");
    if (opts_.task_program.empty()) opts_.task_program = SelfExe();
    if (opts_.task_memory == 0) opts_.task_memory = DefaultTaskMemory(opts_.slots);
    if (opts_.allow_user_code) {
      spdlog::info("user code (streaming and plugin tasks) is allowed (--allow-user-code): it runs in task "
                   "processes, each limited to {} of data memory and {} without progress unless its job says otherwise",
                   FormatBytes(opts_.task_memory), FormatDuration(opts_.task_timeout));
    } else {
      spdlog::info("user code (streaming and plugin tasks) is refused (no --allow-user-code)");
    }
    shuffle_ = std::make_unique<ShuffleServer>(shuffle_io_, store_.get(), opts_.tls, opts_.rpc);
    MR_RETURN_IF_ERROR(shuffle_->Listen(opts_.listen));
    shuffle_work_.emplace(asio::make_work_guard(shuffle_io_));
    shuffle_thread_ = std::thread([this] { shuffle_io_.run(); });
    spdlog::info("worker {} (incarnation {}): shuffle server on {}{}; {} slots, {} threads per map; master {}",
                 identity_.id, identity_.incarnation, shuffle_->address().ToString(),
                 opts_.advertise.empty() ? "" : ", advertised as " + opts_.advertise, opts_.slots, opts_.threads,
                 opts_.master.ToString());
    for (int i = 0; i < opts_.slots; i++) executors_.emplace_back([this] { ExecutorLoop(); });
    Connect();
    ArmHeartbeat();
    return Status::OK();
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    alive_.reset();  // every callback holding it now sees it expired
    if (shuffle_) asio::post(shuffle_io_, [this] { shuffle_->Stop(); });
    if (channel_) channel_->Close("worker stopping");
    channel_.reset();
  }

  bool Join(std::chrono::milliseconds grace) {
    {
      std::unique_lock<std::mutex> l(mu_);
      stopping_ = true;
      for (auto& r : running_) r->cancel = true;
      cv_.notify_all();
      // Attempts notice the cancel within moments; one stuck in user code or a hung disk must not
      // keep the process alive: its work is lost anyway, and the master reschedules it.
      auto idle = [this] { return running_.empty(); };
      if (grace == Millis::max()) cv_.wait(l, idle);
      else if (!cv_.wait_for(l, grace, idle)) return false;
    }
    for (auto& t : executors_) t.join();
    executors_.clear();
    shuffle_work_.reset();
    shuffle_io_.stop();
    if (shuffle_thread_.joinable()) shuffle_thread_.join();
    return true;
  }

 private:
  struct Queued {
    proto::AssignTask task;
  };
  struct RunningTask {
    proto::AssignTask task;
    std::atomic<bool> cancel{false};
  };

  // Exponential backoff with jitter (250 ms doubling to 5 s; at least 2 s after a refusal), so a
  // master restarting under many workers is not hit by all of them at once.
  void ScheduleReconnect() {
    int64_t base = std::min<int64_t>(5000, int64_t{250} << std::min(connect_failures_, 5));
    if (refused_) base = std::max<int64_t>(base, 2000);
    refused_ = false;
    int64_t delay = base / 2 + std::uniform_int_distribution<int64_t>(0, base / 2)(jitter_);
    timers_->After(Millis(delay), [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) Connect();
    });
  }

  void Connect() {
    uint64_t gen = ++generation_;
    ConnectOptions co;
    co.timers = nullptr;
    ConnectRpc(io_, opts_.master, opts_.tls, proto::ROLE_WORKER,
               [this, alive = std::weak_ptr<bool>(alive_), gen](Result<std::shared_ptr<Channel>> r) {
                 return OnConnected(gen, std::move(r), alive);
               },
               co);
  }

  // The connection `gen` is up and its hello done: register; or give up on this connection.
  ChannelHandlers OnConnected(uint64_t gen, Result<std::shared_ptr<Channel>> r, const std::weak_ptr<bool>& alive) {
    if (alive.expired() || gen != generation_) {
      if (r.ok()) (*r)->Close("worker stopping");
      return {};
    }
    if (!r.ok()) {
      const Status& st = r.status();
      if (st.code() == Status::Code::kUnavailable) {
        if (connect_failures_++ % 20 == 0) spdlog::warn("{}; retrying", st.message());
      } else {  // refused, not merely cut off
        spdlog::error("cannot join the master at {}: {}", opts_.master.ToString(), st.message());
        refused_ = true;  // retried, but slowly: an operator has to fix the token
        connect_failures_++;
      }
      ScheduleReconnect();
      return {};
    }
    channel_ = *r;
    // Heartbeats are unacknowledged for this long only when the master is unreachable.
    channel_->SetUserTimeout(std::max<Millis>(Millis(3000), 3 * opts_.heartbeat));
    channel_->Send(Registration());
    return {[this, alive](proto::Envelope& m) {
              if (!alive.expired()) OnMessage(m);
            },
            [this, alive, gen](const std::string& reason) {
              if (!alive.expired()) OnClosed(gen, reason);
            }};
  }

  void OnClosed(uint64_t gen, const std::string& reason) {
    if (gen != generation_) return;
    spdlog::warn("lost the master ({}); reconnecting", reason);
    channel_.reset();
    files_->FailPending("lost the master (" + reason + ")");
    worker_id_.clear();
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
    rw->set_name(opts_.name);
    rw->set_known_name(identity_.name);
    rw->set_allow_user_code(opts_.allow_user_code);
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
    if (m.has_register_reply()) {
      worker_id_ = m.register_reply().worker_id();
      connect_failures_ = 0;
      if (worker_id_ != identity_.name) {
        // The next master (or this one after a restart) calls this worker by the same name.
        if (Status kept = data_dir_->RememberName(worker_id_); kept.ok()) {
          identity_.name = worker_id_;
        } else {
          spdlog::warn("cannot record the worker's name in its data dir: {}", kept.message());
        }
      }
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
      const proto::AssignTask& t = m.assign_task();
      spdlog::info("{} assigned", AttemptName(t));
      if (!opts_.allow_user_code && (!t.job_lib().empty() || !t.mapper().empty())) {
        // Whatever sent it (a master that should not have, or bytes that should not be there),
        // this worker starts no command and loads no library.
        spdlog::warn("{}: refused: a {} task, and this worker does not run user code", AttemptName(t),
                     t.job_lib().empty() ? "streaming" : "plugin");
        channel_->Send(Refusal(t, "this worker does not run user code (start it with --allow-user-code)"));
        return;
      }
      if (Status st = store_->PutJobSecret(t.job_id(), t.shuffle_secret()); !st.ok()) {
        channel_->Send(Refusal(t, st.message()));
        return;
      }
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back({std::move(*m.mutable_assign_task())});
      cv_.notify_one();
    } else if (m.has_job_file()) {
      files_->Deliver(m.job_file());
    } else if (m.has_job_ended()) {
      DropJob(m.job_ended().job_id(), "it ended");
    } else if (m.has_cancel_attempt()) {
      CancelAttempt(m.cancel_attempt());
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

  // A report of the attempt `t`, to fill in.
  static proto::Envelope ReportOf(const proto::AssignTask& t) {
    proto::Envelope e;
    auto* rep = e.mutable_task_report();
    rep->set_job_id(t.job_id());
    rep->set_kind(t.kind());
    rep->set_index(t.index());
    rep->set_attempt(t.attempt());
    return e;
  }

  // The report of an attempt this worker will not run.
  static proto::Envelope Refusal(const proto::AssignTask& t, const std::string& why) {
    proto::Envelope e = ReportOf(t);
    e.mutable_task_report()->set_ok(false);
    e.mutable_task_report()->set_error(why);
    return e;
  }

  // The master no longer needs the attempt: it is not started, or stopped where it is. Its
  // report, if one is sent, is ignored.
  void CancelAttempt(const proto::CancelAttempt& c) {
    auto same = [&c](const proto::AssignTask& t) {
      return t.job_id() == c.job_id() && t.kind() == c.kind() && t.index() == c.index() && t.attempt() == c.attempt();
    };
    std::lock_guard<std::mutex> l(mu_);
    for (auto& r : running_) {
      if (same(r->task)) {
        r->cancel = true;
        spdlog::info("{}: cancelled by the master (superseded or preempted)", AttemptName(r->task));
      }
    }
    std::erase_if(queue_, [&](const Queued& q) { return same(q.task); });
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
    files_->DropJob(job);
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

  void ArmHeartbeat() {
    timers_->After(opts_.heartbeat, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      SendHeartbeat();
      ArmHeartbeat();
    });
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
      asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), report = std::move(report)] {
        if (alive.expired()) return;  // stopped: the master reschedules the attempt
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
    proto::Envelope e = ReportOf(t);
    auto* rep = e.mutable_task_report();
    AttemptLog log;
    JobDefinition def{t.job_name(), JobArgs(t.args().begin(), t.args().end()), t.job_lib(), t.mapper(),
                      t.reducer(), t.combiner(), &log};
    if (t.kind() == proto::TASK_MAP) {
      log.Line(fmt::format("{} started: {} bytes at {} of {}", AttemptName(t),
                           t.split().length(), t.split().offset(), t.split().path()));
    } else {
      log.Line(fmt::format("{} started: {} map outputs to fetch, output {}", AttemptName(t),
                           MapOutputCount(t), t.output_dir()));
    }
    Status status;
    CounterSet counters;
    if (def.user_code()) {
      status = RunInTaskProcess(t, run, &log, rep, &counters);
    } else {
      auto job = MakeJob(def);
      if (!job.ok()) {
        status = job.status();
      } else if (t.kind() == proto::TASK_MAP) {
        MapOptions mo{opts_.threads, opts_.map_buffer_bytes, &run.cancel};
        auto r = RunMapTask(t, **job, store_.get(), mo);
        if (r.ok()) counters = std::move(*r);
        else status = r.status();
      } else {
        const Job& jb = **job;
        ReduceStep step = [&](RunMerger& merged, const std::string& output_file) {
          return ReduceMerged(t, jb, merged, output_file, &run.cancel, nullptr);
        };
        status = RunReduce(t, step, run, rep, &counters);
      }
    }
    if (status.ok()) status = Failpoint(t.kind() == proto::TASK_MAP ? FailpointName("map.before_report") : FailpointName("reduce.before_commit"));
    auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start).count();
    rep->set_ok(status.ok());
    if (status.ok() && t.kind() == proto::TASK_MAP && t.reducers() == 0) {
      rep->set_output_file(AttemptOutputFile(t.output_dir(), t.job_id(), t.index(), t.attempt(), PartKind::kMap));
    }
    if (status.ok()) {
      for (auto& [k, v] : counters.values()) (*rep->mutable_counters())[k] = v;
      spdlog::info("{} succeeded in {} ms", AttemptName(t), ms);
      std::string summary;
      for (auto& [k, v] : counters.values()) {
        if (summary.size() > 2048) {
          summary += fmt::format(" ... ({} counters in all)", counters.values().size());
          break;
        }
        summary += fmt::format(" {}={}", k, v);
      }
      log.Line(fmt::format("{} succeeded in {} ms;{}", AttemptName(t), ms, summary));
    } else {
      rep->set_error(status.message());
      rep->set_resource_exhausted(status.code() == Status::Code::kResourceExhausted);
      spdlog::warn("{} failed after {} ms: {}", AttemptName(t), ms, status.message());
      log.Line(fmt::format("{} failed after {} ms: {}", AttemptName(t), ms, status.message()));
    }
    rep->set_log(log.log());
    rep->set_user_stderr(log.user_stderr());
    rep->set_stderr_truncated(log.stderr_truncated());
    // Whatever the job's code did, the report fits in a frame (a frame too big would cost the
    // connection and every running attempt, and the re-run would do the same).
    if (std::string cut = BoundTaskReport(rep); !cut.empty()) {
      spdlog::warn("{}: {}", AttemptName(t), cut);
      rep->mutable_log()->append(fmt::format("{}: {}\n", AttemptName(t), cut));
    }
    return e;
  }

  // A plugin's or streaming job's attempt: its code runs in a task process; the worker keeps the
  // store, the fetches and the credential.
  Status RunInTaskProcess(const proto::AssignTask& t, RunningTask& run, AttemptLog* log, proto::TaskReport* rep,
                          CounterSet* counters) {
    TaskProcessOptions tpo;
    tpo.program = opts_.task_program;
    tpo.threads = opts_.threads;
    tpo.buffer_bytes = opts_.map_buffer_bytes;
    tpo.spill_dir = std::filesystem::absolute(store_->spill_dir()).string();  // the same in any working dir
    tpo.memory_limit = t.task_memory() > 0 ? t.task_memory() : opts_.task_memory;
    tpo.timeout = t.task_timeout_ms() > 0 ? Millis(t.task_timeout_ms()) : opts_.task_timeout;
    tpo.cancel = &run.cancel;
    // A job that ships files runs each attempt in a working directory of its own that holds them.
    WorkDir work(t.files_size() > 0 ? fmt::format("{}/work/{}", scratch_dir_, AttemptDirName(
        t.job_id(), t.index(), t.attempt(), t.kind() == proto::TASK_MAP ? PartKind::kMap : PartKind::kReduce)) : "");
    if (!work.path.empty()) {
      MR_RETURN_IF_ERROR(files_->Prepare(t, work.path, kJobFileTimeout, &run.cancel));
      log->Line(fmt::format("{} runs in {} with the job's {}", AttemptName(t), work.path,
                            Counted(t.files_size(), "file")));
      tpo.work_dir = work.path;
    }
    if (t.kind() == proto::TASK_REDUCE) {
      ReduceStep step = [&](RunMerger& merged, const std::string& output_file) {
        return ReduceInTaskProcess(t, merged, output_file, tpo, log);
      };
      return RunReduce(t, step, run, rep, counters);
    }
    // The worker's failpoints stay in the worker: a map's start is checked here.
    MR_RETURN_IF_ERROR(Failpoint(FailpointName("map.start")));
    if (t.skip_records_size() > 0) {
      std::vector<std::string> named;
      for (const proto::SkippedRecord& b : t.skip_records()) named.push_back(b.description());
      log->Line(fmt::format("{} skips {}: {}", AttemptName(t), Counted(t.skip_records_size(), "bad record"),
                            fmt::join(named, "; ")));
    }
    proto::SkippedRecord bad;
    auto r = RunMapInTaskProcess(t, store_.get(), tpo, log, &bad);
    if (!r.ok()) {
      if (!bad.description().empty()) *rep->mutable_bad_record() = bad;
      return r.status();
    }
    *counters = std::move(*r);
    return Status::OK();
  }

  // A reduce attempt: fetch and merge here, then `step`; fills in the report's output file, or the
  // maps whose output could not be fetched.
  Status RunReduce(const proto::AssignTask& t, const ReduceStep& step, RunningTask& run, proto::TaskReport* rep,
                   CounterSet* counters) {
    ReduceOptions ro{scratch_dir_, 64ull << 20, &run.cancel, opts_.tls, opts_.merge_factor};
    ReduceFailure failure;
    auto r = RunReduceTask(t, step, ro, &failure);
    if (r.ok()) {
      *counters = std::move(r->counters);
      rep->set_output_file(r->output_file);
      return Status::OK();
    }
    for (uint32_t m : failure.failed_maps) rep->add_failed_maps(m);
    for (const auto& loc : failure.failed_fetches) *rep->add_failed_fetches() = loc;
    rep->set_map_output_corrupt(failure.corrupt);
    return r.status();
  }

  static constexpr size_t kMaxUndelivered = 4096;

  WorkerOptions opts_;
  asio::io_context& io_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expired for callbacks after Stop
  bool stopped_ = false;
  std::unique_ptr<DataDir> data_dir_;
  DataDir::Identity identity_;
  asio::io_context shuffle_io_;  // the shuffle server's own thread
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> shuffle_work_;
  std::thread shuffle_thread_;
  std::unique_ptr<IntermediateStore> store_;
  std::unique_ptr<ShuffleServer> shuffle_;
  std::string scratch_dir_;
  std::unique_ptr<JobFileCache> files_;  // the files shipped with jobs (scratch/files)
  // io thread only:
  std::shared_ptr<Channel> channel_;
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

Worker::Worker(asio::io_context& io, WorkerOptions options, TimerSource* timers)
    : impl_(std::make_unique<Impl>(io, std::move(options), timers)) {}
Worker::~Worker() = default;
Status Worker::Start() { return impl_->Start(); }
void Worker::Stop() { impl_->Stop(); }
bool Worker::Join(std::chrono::milliseconds grace) { return impl_->Join(grace); }
HostPort Worker::shuffle_address() const { return impl_->shuffle_address(); }
const std::string& Worker::worker_id() const { return impl_->worker_id(); }

Status RunWorker(const WorkerOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);  // a streaming command that exits early must not kill the worker
  // A file size limit (RLIMIT_FSIZE) reached makes the write fail with EFBIG, like a full disk:
  // the attempt fails and is retried elsewhere, instead of the worker being killed.
  ::signal(SIGXFSZ, SIG_IGN);
  asio::io_context io;
  Worker worker(io, options);
  MR_RETURN_IF_ERROR(worker.Start());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const error_code& e, int sig) {
    if (!e) spdlog::info("signal {}: stopping", sig);
    worker.Stop();
    io.stop();
  });
  io.run();
  if (!worker.Join(std::chrono::seconds(3))) {
    spdlog::warn("some attempts did not stop in time; exiting anyway");
    spdlog::default_logger()->flush();
    std::_Exit(0);
  }
  return Status::OK();
}

}  // namespace mr
