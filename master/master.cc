#include "master/master.h"

#include <algorithm>
#include <boost/asio/signal_set.hpp>

#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <set>

#include "common/channel.h"
#include "common/clock.h"
#include "common/data_dir.h"
#include "common/failpoint.h"
#include "common/address.h"
#include "common/credentials.h"
#include "common/handshake.h"
#include "common/log.h"
#include "common/rpc_server.h"
#include "common/tls.h"
#include "master/http_api.h"
#include "master/http_server.h"
#include "master/attempt_logs.h"
#include "master/carry_out.h"
#include "common/job_files.h"
#include "master/journal.h"
#include "master/pipeline.h"
#include "master/scheduler.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

// Where a local tool connects to a server bound to `bound` (a wildcard becomes loopback).
std::string ConnectAddress(const HostPort& bound) { return HostPort{DisplayHost(bound.host), bound.port}.ToString(); }

// The key every job's shuffle secret is derived from (JobSecret), made once and kept in the data
// dir (mode 0600), so a restarted master hands out the same secrets for its journaled jobs.
Result<std::string> ShuffleKey(const std::string& data_dir) {
  const std::string path = data_dir + "/SHUFFLE_KEY";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    std::string tmp = path + ".tmp";
    std::string key = HexOf(RandomBytes(32));
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << key << "\n";
      if (!f) return Status::IoError("cannot write " + tmp);
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
    fs::rename(tmp, path, ec);
    if (ec) return Status::IoError(fmt::format("cannot write {}: {}", path, ec.message()));
  }
  return ReadSecretFile(path, "the shuffle key");
}

}  // namespace

class Master::Impl {
 public:
  Impl(asio::io_context& io, MasterOptions o, TimerSource* timers)
      : opts_(std::move(o)),
        io_(io),
        own_timers_(timers ? nullptr : std::make_unique<AsioTimerSource>(io)),
        timers_(timers ? timers : own_timers_.get()),
        clock_(*timers_),
        scheduler_(SchedulerOptions{opts_.worker_timeout.count(), opts_.history_jobs, opts_.history_age.count(),
                                    opts_.preempt_after.count()}),
        http_api_(scheduler_, MasterInfo{}, [this] { return NowMs(); }) {}

  ~Impl() { Stop(); }

  Status ReloadPools() {
    if (opts_.pools_file.empty()) return Status::OK();
    auto pools = ReadPoolsFile(opts_.pools_file);
    if (!pools.ok()) return pools.status();
    spdlog::info("pools from {}: {} named{}", opts_.pools_file, pools->pools.size(),
                 pools->pools.empty() ? "" : ", the rest as '*'");
    scheduler_.SetPools(std::move(*pools));
    if (rpc_) {  // serving: new limits may let queued jobs start now
      Effects fx;
      scheduler_.Schedule(NowMs(), &fx);
      Apply(std::move(fx));
    }
    return Status::OK();
  }

  HostPort rpc_address() const { return rpc_ ? rpc_->address() : HostPort{}; }
  HostPort http_address() const { return http_ ? http_->address() : HostPort{}; }

  Status Start() {
    auto dir = DataDir::Lock(opts_.data_dir);
    if (!dir.ok()) return dir.status();
    data_dir_ = std::move(*dir);
    if (!opts_.tls) opts_.tls = TlsContext::Ephemeral();
    auto key = ShuffleKey(opts_.data_dir);
    if (!key.ok()) return key.status();
    shuffle_key_ = *key;
    paths_.allow_input = opts_.allow_input;
    paths_.allow_output = opts_.allow_output;
    paths_.protected_dirs = {opts_.data_dir};
    auto journal = Journal::Open(opts_.data_dir);
    if (!journal.ok()) return journal.status();
    journal_ = std::move(*journal);
    MR_RETURN_IF_ERROR(ReloadPools());
    auto jobs = journal_->LoadJobs();
    if (!jobs.ok()) return jobs.status();
    Effects fx;
    for (auto& j : *jobs) {
      auto tasks = journal_->LoadTasks(j.job_id());
      if (!tasks.ok()) return tasks.status();
      auto plan = journal_->LoadPlan(j.job_id());
      std::string refused = ResumeRefusal(j.spec(), plan);
      ResumedOutput output;
      if (j.state() == proto::JOB_RUNNING && j.spec().map_only()) {
        // A map-only job's maps write its parts: one per split of its plan.
        output = committer_.Resume(j.spec().output(), plan.ok() ? plan->splits_size() : 0, PartKind::kMap);
      } else if (j.state() == proto::JOB_RUNNING) {
        output = committer_.Resume(j.spec().output(), j.spec().reducers());
      }
      scheduler_.Restore(j, *tasks, std::move(plan), output, NowMs(), &fx);
      if (!refused.empty() && !scheduler_.JobStatus(j.job_id())->end_time_ms()) {
        spdlog::warn("job {}: not resumed: {}", j.job_id(), refused);
        (void)scheduler_.Fail(j.job_id(), refused, NowMs(), &fx);
      }
      if (auto history = journal_->LoadHistory(j.job_id()); history.ok()) scheduler_.RestoreHistory(*history);
    }
    Apply(std::move(fx));
    // What a pipeline owes jobs that ended before the master went down: their next step, the
    // removal of the output their step read.
    for (const proto::JobStatus& j : scheduler_.AllJobs()) {
      if (j.end_time_ms() != 0) AfterJobEnded(j.job_id());
    }
    DropUnusedFiles();  // those of jobs that ended while it was down

    const bool local_only = opts_.local_token || opts_.tls->plaintext();
    MR_RETURN_IF_ERROR(CheckBindAllowed(opts_.listen.host, local_only, "--listen"));
    MR_RETURN_IF_ERROR(CheckBindAllowed(opts_.http.host, local_only, "--http"));
    if (opts_.tls->plaintext()) {
      spdlog::warn("MR_BENCH_PLAINTEXT: connections are neither encrypted nor authenticated (a measurement "
                   "switch; loopback only)");
    } else if (opts_.local_token) {
      spdlog::info("no cluster token given: serving loopback only, to this user (uid {}) alone", ::geteuid());
    } else {
      spdlog::info("every connection is TLS 1.3, authenticated by {}{}",
                   opts_.tls->options().cert_file.empty() ? "the cluster token" : "certificates of --tls-ca",
                   opts_.tls->options().users ? fmt::format(" and {} user tokens", opts_.tls->options().users->size())
                                              : "");
    }
    spdlog::info("user code (streaming and plugin jobs) is {}",
                 opts_.allow_user_code ? "allowed (--allow-user-code)" : "refused (no --allow-user-code)");
    auto rpc = RpcServer::Start(
        io_, "master", opts_.listen, opts_.tls, {proto::ROLE_CLIENT, proto::ROLE_WORKER},
        [this](const std::shared_ptr<Channel>& ch, proto::Role role) { return OnReady(ch, role); }, opts_.rpc,
        timers_);
    if (!rpc.ok()) return rpc.status();
    rpc_ = *rpc;
    // The dashboard, JSON API and metrics: read-only, on this same thread (they read the Scheduler).
    HttpServerOptions http_options = opts_.http_limits;
    if (!opts_.http_cert.empty() || !opts_.http_key.empty()) {
      auto tls = HttpsContext(opts_.http_cert, opts_.http_key);
      if (!tls.ok()) return tls.status();
      http_options.tls = *tls;
    }
    auto http = HttpServer::Start(io_, opts_.http, [this](const HttpRequest& r) { return http_api_.Handle(r); },
                                  http_options);
    if (!http.ok()) return Status::Unavailable(fmt::format("--http: {}", http.status().message()));
    http_ = *http;
    HttpAccess& access = http_api_.access();
    access.loopback = http_->loopback();
    access.check = [tls = opts_.tls](std::string_view bearer) {
      return CheckBearer(bearer, tls->cluster_key(), tls->options().users.get());
    };
    char host[256] = {0};
    if (::gethostname(host, sizeof(host) - 1) == 0 && host[0] != 0) access.host_names.push_back(host);
    if (!http_->loopback()) {
      spdlog::info("HTTP dashboard, API and metrics on {}{}: a token is needed for all but /healthz and /readyz",
                   http_->address().ToString(), http_->https() ? " (HTTPS)" : "");
      if (!http_->https()) {
        spdlog::warn("HTTP on {} without --http-cert: the tokens that browsers and scrapers send travel in the "
                     "clear", http_->address().ToString());
      }
    }
    MasterInfo& info = http_api_.info();
    info.rpc_listen = rpc_->address().ToString();
    info.http_listen = http_->address().ToString();
    info.rpc_address = ConnectAddress(rpc_->address());
    info.http_address = ConnectAddress(http_->address());
    rpc_->set_http_address((http_->https() ? "https://" : "http://") + info.http_address);
    info.data_dir = opts_.data_dir;
    info.started_ms = NowMs();
    info.worker_timeout_ms = opts_.worker_timeout.count();
    // The local token before the ADDRESS file: a client that sees the address must find the token too.
    if (opts_.local_token && !opts_.local_token_dir.empty()) {
      MR_RETURN_IF_ERROR(WriteLocalToken(opts_.local_token_dir, rpc_->address().port, opts_.tls->options().token));
      local_token_path_ = LocalTokenPath(opts_.local_token_dir, rpc_->address().port);
    }
    MR_RETURN_IF_ERROR(WriteAddressFile());
    info.ready = true;
    spdlog::info("master listening on {}, dashboard on http://{}/, data in {}, worker timeout {} ms",
                 info.rpc_listen, info.http_address, opts_.data_dir, opts_.worker_timeout.count());
    ArmSweep();
    return Status::OK();
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    alive_.reset();  // every callback holding it now sees it expired
    if (rpc_) rpc_->Stop();
    if (http_) http_->Stop();
    if (!local_token_path_.empty()) {
      std::error_code ec;
      fs::remove(local_token_path_, ec);
    }
    std::vector<std::shared_ptr<Channel>> open;
    for (Session* s : sessions_) {
      if (s->channel) open.push_back(s->channel);
    }
    sessions_.clear();
    workers_.clear();
    for (auto& ch : open) ch->Close("master stopping");
  }

 private:
  // An authenticated connection, owned by its channel's handlers.
  struct Session {
    std::shared_ptr<Channel> channel;
    proto::Role role = proto::ROLE_UNSPECIFIED;
    std::string worker_id;
    std::string identity;
  };

  // The master's "now": epoch milliseconds that advance with the timers (a steady clock).
  int64_t NowMs() const { return clock_.NowMs(); }

  Status WriteAddressFile() {
    std::string path = opts_.data_dir + "/ADDRESS";
    std::string tmp = path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      // The RPC line stays first: clients read it with `f >> word >> address`.
      f << "rpc " << ConnectAddress(rpc_->address()) << "\n";
      f << "http " << ConnectAddress(http_->address()) << "\n";
      if (!f) return Status::IoError("cannot write " + tmp);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return Status::IoError(fmt::format("cannot write {}: {}", path, ec.message()));
    return Status::OK();
  }

  void ArmSweep() {
    auto period = std::clamp(opts_.worker_timeout / 4, std::chrono::milliseconds(20),
                             std::chrono::milliseconds(1000));
    timers_->After(period, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      Effects fx;
      int64_t now = NowMs();
      for (const std::string& id : scheduler_.SilentWorkers(now, opts_.worker_timeout.count())) {
        auto it = workers_.find(id);
        if (it != workers_.end()) {
          it->second->worker_id.clear();
          it->second->channel->Close("no heartbeat");
          workers_.erase(it);
        }
        scheduler_.RemoveWorker(id, fmt::format("no heartbeat for {} ms", opts_.worker_timeout.count()),
                                now, &fx);
      }
      scheduler_.Tick(now, &fx);  // orphaned outputs past their grace, backups for stragglers
      Apply(std::move(fx));
      ArmSweep();
    });
  }

  // The gate hands over a connection that proved its role.
  ChannelHandlers OnReady(const std::shared_ptr<Channel>& channel, proto::Role role) {
    auto session = std::make_shared<Session>();
    session->channel = channel;
    session->role = role;
    sessions_.insert(session.get());
    std::weak_ptr<bool> alive = alive_;
    if (role == proto::ROLE_WORKER) {
      channel->OnBadFrame([this, alive, raw = session.get()](const std::string& why) {
        if (!alive.expired()) OnWorkerBadFrame(*raw, why);
      });
    }
    // The session holds the channel and the handlers hold the session; the cycle is broken when
    // the channel drops its handlers after closing.
    return {[this, alive, session](proto::Envelope& m) {
              if (alive.expired()) return;
              if (session->role == proto::ROLE_CLIENT) OnClientMessage(*session, m);
              else OnWorkerMessage(*session, m);
            },
            [this, alive, session](const std::string& reason) {
              if (!alive.expired()) OnClosed(*session, reason);
              session->channel.reset();
            }};
  }

  // A registered worker sent a frame the master cannot read (too big, or unparsable): the attempts
  // it runs fail, charged, instead of the worker being dropped (which would lose its finished maps
  // and let the same report be lost again and again). Before registering, it is refused.
  void OnWorkerBadFrame(Session& s, const std::string& why) {
    if (s.worker_id.empty()) return Refuse(s, why);
    spdlog::warn("worker {} sent a frame the master cannot read ({}); failing its running attempts", s.worker_id,
                 why);
    Effects fx;
    int64_t now = NowMs();
    scheduler_.FailAttemptsOn(s.worker_id, "the worker sent a message the master cannot read: " + why, now, &fx);
    scheduler_.Schedule(now, &fx);
    Apply(std::move(fx));
  }

  void OnClosed(Session& s, const std::string& reason) {
    sessions_.erase(&s);
    if (s.role == proto::ROLE_WORKER && !s.worker_id.empty()) {
      Effects fx;
      workers_.erase(s.worker_id);
      scheduler_.RemoveWorker(s.worker_id, "connection closed: " + reason, NowMs(), &fx,
                              Scheduler::Loss::kDisconnected);
      Apply(std::move(fx));
    } else if (reason != Channel::kPeerClosed) {
      spdlog::info("connection from {} closed: {}", s.channel->peer(), reason);
    }
  }

  void Refuse(Session& s, const std::string& reason) {
    spdlog::warn("closing connection from {}: {}", s.channel->peer(), reason);
    s.channel->Send(MakeError(reason));
    s.channel->CloseAfterFlush(reason);
  }

  void OnClientMessage(Session& s, proto::Envelope& m) {
    proto::Envelope reply;
    Effects fx;
    int64_t now = NowMs();
    switch (m.msg_case()) {
      case proto::Envelope::kSubmitJob: {
        proto::JobSpec& spec = *m.mutable_submit_job()->mutable_spec();
        spec.set_owner(s.channel->credential().Owner());
        if (spec.input_is_step()) {
          reply = MakeError("input_is_step is the master's to set: submit a pipeline as its first step with then");
          break;
        }
        bool user_code = !spec.job_lib().empty() || !spec.mapper().empty();
        for (const proto::JobSpec& step : spec.then()) user_code |= !step.job_lib().empty() || !step.mapper().empty();
        if (!opts_.allow_user_code && user_code) {
          spdlog::warn("refused a {} job from {}: user code is not allowed on this master", 
                       spec.job_lib().empty() ? "streaming" : "plugin", s.channel->peer());
          reply = MakeError(fmt::format(
              "this master does not run user code ({} jobs); its operator must start it with "
              "--allow-user-code (mr run does so on your own machine)",
              spec.job_lib().empty() ? "streaming" : "plugin"));
          break;
        }
        Result<uint64_t> r = Admit(spec, now, &fx);
        if (!r.ok()) {
          spdlog::info("refused a {} job from {} ({}): {}", spec.job(), s.channel->peer(), spec.owner(),
                       r.status().message());
          reply = MakeError(r.status().message());
          break;
        }
        reply.mutable_submit_reply()->set_job_id(*r);
        break;
      }
      case proto::Envelope::kGetJob: {
        auto st = scheduler_.JobStatus(m.get_job().job_id());
        if (!st.ok()) reply = MakeError(st.status().message());
        else *reply.mutable_job_status()->mutable_status() = *st;
        break;
      }
      case proto::Envelope::kListJobs:
        for (auto& j : scheduler_.AllJobs()) *reply.mutable_job_list()->add_jobs() = j;
        reply.mutable_job_list();
        break;
      case proto::Envelope::kGetLogs: {
        if (Status may = MayActOn(s, m.get_logs().job_id(), "read the logs of"); !may.ok()) {
          reply = MakeError(may.message());
          break;
        }
        auto logs = CollectLogs(scheduler_, *journal_, m.get_logs(), now);
        if (!logs.ok()) reply = MakeError(logs.status().message());
        else *reply.mutable_logs_reply() = std::move(*logs);
        break;
      }
      case proto::Envelope::kListWorkers:
        for (auto& w : scheduler_.Workers(now, m.list_workers().offset(),
                                          m.list_workers().limit() ? m.list_workers().limit() : SIZE_MAX,
                                          m.list_workers().all())) {
          *reply.mutable_worker_list()->add_workers() = w;
        }
        reply.mutable_worker_list()->set_total(scheduler_.WorkerCount());
        break;
      case proto::Envelope::kKillJob: {
        if (Status may = MayActOn(s, m.kill_job().job_id(), "kill"); !may.ok()) {
          reply = MakeError(may.message());
          break;
        }
        spdlog::info("job {}: kill requested by {} ({})", m.kill_job().job_id(), s.channel->peer(),
                     s.channel->credential().Owner());
        Status st = KillPipeline(m.kill_job().job_id(), now, &fx);
        if (!st.ok()) reply = MakeError(st.message());
        else reply.mutable_kill_reply()->set_state(proto::JOB_KILLED);
        break;
      }
      default:
        Refuse(s, fmt::format("unexpected {} from a client", MessageName(m)));
        return;
    }
    scheduler_.Schedule(now, &fx);
    Apply(std::move(fx));
    Reply(s.channel, std::move(reply));
  }

  void OnWorkerMessage(Session& s, proto::Envelope& m) {
    Effects fx;
    int64_t now = NowMs();
    if (m.has_register_worker()) {
      if (!s.worker_id.empty()) return Refuse(s, "worker registered twice");
      const proto::RegisterWorker& rw = m.register_worker();
      Status reachable = CheckAdvertisedAddress(
          rw.shuffle_address(), s.channel->remote_host(), "the worker's shuffle address",
          "start the worker with --advertise HOST (the address other hosts reach it by) or --listen on such an "
          "address");
      if (!reachable.ok()) return Refuse(s, reachable.message());
      // A worker is named by its --name, else by the name it had (with this master, or as its data
      // dir remembers), else by its shuffle address (the scheduler's worker table).
      const std::string identity = scheduler_.IdentityOf(rw.identity());
      auto named = scheduler_.NameWorker(identity, rw.name(), rw.shuffle_address(), rw.known_name());
      if (!named.ok()) return Refuse(s, named.status().message());
      const std::string name = *named;
      if (auto old = workers_.find(name); old != workers_.end()) {
        // An older connection of the same worker that this master has not yet seen break.
        old->second->worker_id.clear();
        old->second->channel->Close("replaced by a new connection of the same worker");
        workers_.erase(old);
      }
      s.worker_id = name;
      s.identity = identity;
      workers_[name] = &s;
      WorkerRegistration reg{name, rw.incarnation(), rw.shuffle_address(), rw.slots(),
                             {rw.held_outputs().begin(), rw.held_outputs().end()},
                             {rw.jobs_with_data().begin(), rw.jobs_with_data().end()}, rw.host(), rw.pid(),
                             rw.allow_user_code()};
      std::vector<uint64_t> drop = scheduler_.AddWorker(reg, now, &fx, identity);
      spdlog::info("worker {} registered from {}{}: shuffle {}, {} slots, incarnation {}, {} map outputs held",
                   name, s.channel->peer(), rw.host().empty() ? "" : " (" + rw.host() + ")", rw.shuffle_address(),
                   rw.slots(), rw.incarnation(), rw.held_outputs_size());
      proto::Envelope reply;
      reply.mutable_register_reply()->set_worker_id(name);
      for (uint64_t j : drop) reply.mutable_register_reply()->add_drop_jobs(j);
      s.channel->Send(reply);
    } else if (s.worker_id.empty()) {
      return Refuse(s, fmt::format("{} before registering", MessageName(m)));
    } else if (m.has_heartbeat()) {
      scheduler_.Heartbeat(s.worker_id, now);
    } else if (m.has_get_job_file()) {
      proto::Envelope reply;
      proto::JobFileReply* r = reply.mutable_job_file();
      r->set_sha256(m.get_job_file().sha256());
      auto content = JobFile(m.get_job_file());
      if (content.ok()) r->set_content(std::move(*content));
      else r->set_error(content.status().message());
      s.channel->Send(reply);
      return;
    } else if (m.has_task_report()) {
      scheduler_.Heartbeat(s.worker_id, now);
      if (scheduler_.HasJob(m.task_report().job_id())) {
        // Journaled with the report's effects, in the same write.
        logs_.emplace_back(m.task_report().job_id(), AttemptLogFromReport(s.worker_id, m.task_report()));
      }
      scheduler_.OnReport(s.worker_id, m.task_report(), now, &fx);
    } else {
      return Refuse(s, fmt::format("unexpected {} from a worker", MessageName(m)));
    }
    scheduler_.Schedule(now, &fx);
    Apply(std::move(fx));
  }

  // Whether the session's credential may act on the job (its owner, or an admin). An unknown job
  // is left to the request itself to report.
  Status MayActOn(const Session& s, uint64_t job_id, const char* what) {
    auto st = scheduler_.JobStatus(job_id);
    if (!st.ok()) return Status::OK();
    const PeerCredential& who = s.channel->credential();
    if (who.MayActOn(st->spec().owner())) return Status::OK();
    spdlog::warn("job {}: {} ({}) may not {} it (owner {})", job_id, s.channel->peer(), who.Owner(), what,
                 st->spec().owner());
    return Status::PermissionDenied(fmt::format("job {} belongs to {}: only its owner or an admin may {} it", job_id,
                                                st->spec().owner(), what));
  }

  // Why a journaled job may not be resumed by this master ("" when it may): user code it no longer
  // allows, or paths outside what it lets jobs read and write.
  std::string ResumeRefusal(const proto::JobSpec& spec, const Result<proto::JobPlan>& plan) const {
    if (!opts_.allow_user_code && (!spec.job_lib().empty() || !spec.mapper().empty())) {
      return "this master was restarted without --allow-user-code, and the job runs user code";
    }
    if (plan.ok()) {
      if (Status st = CheckPathPolicy(spec, plan.value(), paths_); !st.ok()) {
        return "after a master restart: " + st.message();
      }
    }
    return "";
  }

  // A job ended (journaled): a pipeline step's input (the step before's output) goes; a step that
  // succeeded is followed by the next, or the chain fails with why the next could not be
  // submitted (its own output, kept for that step, then goes too). Idempotent.
  void AfterJobEnded(uint64_t id) {
    auto st = scheduler_.JobStatus(id);
    if (!st.ok()) return;
    if (st->spec().input_is_step() && st->spec().inputs_size() == 1) {
      if (Status s = committer_.Discard(st->spec().inputs(0)); !s.ok()) spdlog::warn("job {}: {}", id, s.message());
    }
    if (!AwaitsNextStep(*st)) return;
    Effects fx;
    const int64_t now = NowMs();
    auto next = Admit(NextStepSpec(*st), now, &fx, id);
    if (next.ok()) {
      spdlog::info("job {}: the pipeline's next step is job {}", id, *next);
      (void)scheduler_.SetNextStep(id, *next, "", &fx);
    } else {
      std::string why = fmt::format("the pipeline's next step ({}) was refused: {}", st->spec().then(0).job(),
                                    next.status().message());
      spdlog::warn("job {}: {}", id, why);
      (void)scheduler_.SetNextStep(id, 0, why, &fx);
      if (Status s = committer_.Discard(st->spec().output()); !s.ok()) spdlog::warn("job {}: {}", id, s.message());
    }
    scheduler_.Schedule(now, &fx);
    Apply(std::move(fx));
  }

  // Kills the job, or, for a pipeline step that ended, the step running now: the chain stops.
  Status KillPipeline(uint64_t id, int64_t now, Effects* fx) {
    for (int hops = 0; hops <= kMaxPipelineSteps; hops++) {
      auto st = scheduler_.JobStatus(id);
      if (!st.ok() || st->end_time_ms() == 0) break;
      if (st->next_job_id() != 0) {
        id = st->next_job_id();
        continue;
      }
      // Ended, and the next step not yet submitted: there will be none.
      if (AwaitsNextStep(*st)) {
        (void)scheduler_.SetNextStep(id, 0, "the pipeline was killed", fx);
        (void)committer_.Discard(st->spec().output());
        return Status::OK();
      }
      break;
    }
    return scheduler_.Kill(id, now, fx);
  }

  // The bytes of a file shipped with an unfinished job, for its workers.
  Result<std::string> JobFile(const proto::GetJobFile& want) {
    auto st = scheduler_.JobStatus(want.job_id());
    if (!st.ok()) return st.status();
    if (st->end_time_ms() != 0) return Status::NotFound(fmt::format("job {} has ended", want.job_id()));
    for (const proto::JobFile& f : st->spec().files()) {
      if (f.sha256() == want.sha256()) return journal_->LoadFile(f.sha256());
    }
    return Status::NotFound(fmt::format("job {} ships no file {}", want.job_id(), want.sha256()));
  }

  // Drops the journaled files that no job may still need.
  void DropUnusedFiles() {
    if (journal_->FileCount() == 0) return;  // the usual case: no look at every job
    std::set<std::string> keep;
    for (const proto::JobStatus& j : scheduler_.AllJobs()) FilesStillNeeded(j, &keep);
    if (Status s = journal_->DropFilesExcept(keep); !s.ok()) spdlog::warn("{}", s.message());
  }

  // The job's shuffle secret (AssignTask.shuffle_secret).
  std::string JobSecret(uint64_t job_id) const { return HmacSha256(shuffle_key_, fmt::format("mr-v2 job {}", job_id)); }

  // Admits a submitted job, journals its split plan and queues it.
  // `previous`: the job of the step before, for a pipeline's later step (master/pipeline.h).
  Result<uint64_t> Admit(proto::JobSpec spec, int64_t now, Effects* fx, uint64_t previous = 0) {
    if (previous == 0) MR_RETURN_IF_ERROR(CheckFilesRoom(journal_->FileBytes(), spec));
    if (previous == 0 && spec.then_size() > 0) MR_RETURN_IF_ERROR(PreparePipeline(&spec, committer_, paths_));
    auto admitted = AdmitJob(std::move(spec), committer_, paths_);
    if (!admitted.ok()) return admitted.status();
    admitted->previous_job = previous;
    // The job's files (and its later steps') are journaled apart, once per digest; its spec keeps
    // their names and digests. A later step's were journaled with the first.
    auto journal_files = [this](proto::JobSpec* s, bool have_bytes) -> Status {
      for (proto::JobFile& f : *s->mutable_files()) {
        if (have_bytes) MR_RETURN_IF_ERROR(journal_->PutFile(f.sha256(), f.content()));
        f.clear_content();
      }
      return Status::OK();
    };
    MR_RETURN_IF_ERROR(journal_files(&admitted->spec, previous == 0));
    for (proto::JobSpec& step : *admitted->spec.mutable_then()) MR_RETURN_IF_ERROR(journal_files(&step, previous == 0));
    auto id = journal_->NextJobId();
    if (!id.ok()) return id.status();
    MR_RETURN_IF_ERROR(journal_->PutPlan(*id, admitted->plan));
    return scheduler_.Submit(*id, std::move(*admitted), now, fx);
  }

  // Carries out a Scheduler call's effects: journal first, then tell the workers. The effects of
  // every event the io loop handles in one turn (a burst of reports, say) are journaled together
  // in one synced write, by a flush posted behind those events: one sync per turn, not per event.
  // When a journal write fails (a full disk), nothing it protects is sent: the effects are held,
  // and journaled and sent with a later flush (the sweep makes one every period) once the journal
  // works again. Moves `step` (its histories and assignments may be large).
  void Apply(Effects&& step) {
    // The output work first (a commit renames a reduce's file into place before its task is
    // journaled as done); what the scheduler does in answer joins this step.
    CarryOutOutputWork(scheduler_, committer_, NowMs(), &step);
    auto append = [](auto& to, auto& from) {
      to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    };
    append(pending_.assignments, step.assignments);
    append(pending_.cancels, step.cancels);
    append(pending_.ended_jobs, step.ended_jobs);
    append(pending_.changed_jobs, step.changed_jobs);
    append(pending_.changed_tasks, step.changed_tasks);
    append(pending_.histories, step.histories);
    append(pending_.forgotten_jobs, step.forgotten_jobs);
    if (flush_posted_) return;
    flush_posted_ = true;
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) Flush();
    });
  }

  // A reply that must not overtake the journal write of what was done before it (a submitted
  // job's id, a kill, a status that may show unjournaled progress): sent by the next flush, or at
  // once when nothing waits to be journaled.
  void Reply(const std::shared_ptr<Channel>& channel, proto::Envelope reply) {
    if (!flush_posted_ && !journal_failing_ && replies_.empty()) {
      channel->Send(reply);
      return;
    }
    replies_.emplace_back(channel, std::move(reply));
  }

  void Flush() {
    flush_posted_ = false;
    Effects& fx = pending_;
    std::vector<proto::JobStatus> jobs;
    std::sort(fx.changed_jobs.begin(), fx.changed_jobs.end());
    fx.changed_jobs.erase(std::unique(fx.changed_jobs.begin(), fx.changed_jobs.end()), fx.changed_jobs.end());
    for (uint64_t id : fx.changed_jobs) {
      if (auto st = scheduler_.JobStatus(id); st.ok()) jobs.push_back(std::move(*st));
    }
    Status journaled = journal_->Commit(fx.changed_tasks, jobs, fx.histories, fx.ended_jobs, logs_);
    if (!journaled.ok()) {
      spdlog::error("{}; {} assignments and {} job ends wait until the journal can be written", journaled.message(),
                    fx.assignments.size(), fx.ended_jobs.size());
      journal_failing_ = true;
      return;  // kept in pending_ for the next flush
    }
    journal_failing_ = false;
    logs_.clear();
    Effects done = std::move(pending_);
    pending_ = Effects{};
    for (uint64_t id : done.forgotten_jobs) {
      Status s = journal_->DropJob(id);
      if (!s.ok()) spdlog::error("{}", s.message());
    }
    if (!done.changed_tasks.empty() || !done.changed_jobs.empty()) (void)Failpoint("master.after_journal");
    for (auto& [worker, task] : done.assignments) {
      auto it = workers_.find(worker);
      if (it == workers_.end()) continue;
      proto::Envelope e;
      task.set_shuffle_secret(JobSecret(task.job_id()));
      *e.mutable_assign_task() = std::move(task);
      it->second->channel->Send(e);
      (void)Failpoint("master.after_assign");
    }
    for (auto& [worker, a] : done.cancels) {
      auto it = workers_.find(worker);
      if (it == workers_.end()) continue;
      proto::Envelope e;
      proto::CancelAttempt* c = e.mutable_cancel_attempt();
      c->set_job_id(a.job);
      c->set_kind(a.kind);
      c->set_index(a.index);
      c->set_attempt(a.attempt);
      it->second->channel->Send(e);
    }
    for (uint64_t id : done.ended_jobs) AfterJobEnded(id);
    if (!done.ended_jobs.empty()) DropUnusedFiles();
    for (uint64_t id : done.ended_jobs) {
      proto::Envelope e;
      e.mutable_job_ended()->set_job_id(id);
      std::string frame = EncodeFrame(e);
      for (auto& [wid, session] : workers_) session->channel->Send(frame);
    }
    for (auto& [channel, reply] : replies_) channel->Send(reply);
    replies_.clear();
  }

  MasterOptions opts_;
  asio::io_context& io_;
  std::unique_ptr<TimerSource> own_timers_;
  TimerSource* timers_;
  EpochClock clock_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expired for callbacks after Stop
  bool stopped_ = false;
  std::shared_ptr<RpcServer> rpc_;
  std::string shuffle_key_;
  PathPolicy paths_;
  std::string local_token_path_;  // removed at Stop
  std::shared_ptr<HttpServer> http_;
  std::unique_ptr<Journal> journal_;
  Effects pending_;            // to journal, then carry out, at the next flush (and after a failed write)
  bool flush_posted_ = false;
  bool journal_failing_ = false;  // pending_ holds effects whose write failed
  std::vector<std::pair<std::shared_ptr<Channel>, proto::Envelope>> replies_;  // sent after the flush
  std::vector<std::pair<uint64_t, proto::AttemptLog>> logs_;  // attempt logs for the next flush's write
  OutputCommitter committer_{FileSystem::Default()};
  Scheduler scheduler_;
  HttpApi http_api_;
  std::set<Session*> sessions_;              // open authenticated connections (owned by their channels)
  std::map<std::string, Session*> workers_;  // registered workers' sessions
  std::unique_ptr<DataDir> data_dir_;
};

Master::Master(asio::io_context& io, MasterOptions options, TimerSource* timers)
    : impl_(std::make_unique<Impl>(io, std::move(options), timers)) {}
Master::~Master() = default;
Status Master::Start() { return impl_->Start(); }
Status Master::ReloadPools() { return impl_->ReloadPools(); }
void Master::Stop() { impl_->Stop(); }
HostPort Master::rpc_address() const { return impl_->rpc_address(); }
HostPort Master::http_address() const { return impl_->http_address(); }

Status RunMaster(const MasterOptions& options) {
  asio::io_context io;
  Master master(io, options);
  MR_RETURN_IF_ERROR(master.Start());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const error_code& e, int sig) {
    if (!e) spdlog::info("signal {}: stopping", sig);
    master.Stop();
    io.stop();
  });
  // SIGHUP: the users file again (a user added, a token rotated or revoked).
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void()> on_hup = [&] {
    hup.async_wait([&](const error_code& e, int) {
      if (e) return;
      if (options.tls && options.tls->options().users) {
        const auto& users = options.tls->options().users;
        Status st = users->Reload();
        if (st.ok()) spdlog::info("SIGHUP: reloaded {}: {} user tokens", users->path(), users->size());
        else spdlog::error("SIGHUP: {}; the users stay as they were", st.message());
      } else {
        spdlog::info("SIGHUP: no --users file to reload");
      }
      if (Status st = master.ReloadPools(); !st.ok()) spdlog::error("SIGHUP: {}; the pools stay as they were", st.message());
      on_hup();
    });
  };
  on_hup();
  io.run();
  return Status::OK();
}

}  // namespace mr
