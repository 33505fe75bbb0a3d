// A Master (and a Worker) in-process on manual clocks (common/timer_source.h): a silent worker is
// declared dead, a connection without a hello is closed, a straggler gets a backup attempt and a
// worker heartbeats, loses the master and comes back, each because the test advanced a clock, not
// because time passed. The peers are real TCP connections on
// loopback, on the test's own io_context; the only real-time wait is for loopback delivery, polled
// with a deadline.
#include "master/master.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/channel.h"
#include "common/rpc_client.h"
#include "common/rpc_server.h"
#include "common/temp_dir_testing.h"
#include "common/tls.h"
#include "common/record.h"
#include "common/timer_source.h"
#include "master/scheduler.h"
#include "worker/worker.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;


constexpr const char* kToken = "the-cluster-token-of-the-clock-tests";

std::shared_ptr<TlsContext> Tls() {
  TlsOptions o;
  o.token = *Token::Parse(kToken);
  return *TlsContext::Make(std::move(o));
}

// One authenticated connection to the master, as a client or a worker.
struct Peer {
  std::shared_ptr<Channel> channel;
  bool hello_done = false;
  Status hello;
  std::deque<proto::Envelope> inbox;
  bool closed = false;
  std::string close_reason;
};

class MasterClockTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (master_) master_->Stop();
    io_.poll();
    master_.reset();
  }

  void StartMaster(Millis worker_timeout) {
    MasterOptions o;
    o.listen = {"127.0.0.1", 0};
    o.http = {"127.0.0.1", 0};
    o.data_dir = dir_ / "master";
    o.worker_timeout = worker_timeout;
    o.tls = Tls();
    master_ = std::make_unique<Master>(io_, o, &clock_);
    Status st = master_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Runs the io_context until pred() holds, failing after 10 s of real time (loopback delivery
  // only: every decision under test is taken by the manual clock).
  bool RunUntil(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(Millis(10));
    }
    return true;
  }

  std::shared_ptr<Peer> Connect(proto::Role role) {
    auto p = std::make_shared<Peer>();
    ConnectRpc(io_, master_->rpc_address(), Tls(), role, [p](Result<std::shared_ptr<Channel>> r) {
      p->hello_done = true;
      p->hello = r.status();
      if (!r.ok()) return ChannelHandlers{};
      p->channel = *r;
      return ChannelHandlers{[p](proto::Envelope& m) { p->inbox.push_back(m); },
                             [p](const std::string& why) {
                               p->closed = true;
                               p->close_reason = why;
                             }};
    });
    EXPECT_TRUE(RunUntil([&] { return p->hello_done; }));
    EXPECT_TRUE(p->hello.ok()) << p->hello.ToString();
    return p;
  }

  // Sends m and waits for the next message on p.
  proto::Envelope Call(Peer& p, const proto::Envelope& m) {
    p.channel->Send(m);
    EXPECT_TRUE(RunUntil([&] { return !p.inbox.empty() || p.closed; })) << "no reply to " << MessageName(m);
    if (p.inbox.empty()) return {};
    proto::Envelope reply = std::move(p.inbox.front());
    p.inbox.pop_front();
    return reply;
  }

  // A fake worker at a shuffle address all of them share, named `name` (empty: by that address).
  std::shared_ptr<Peer> RegisterWorker(const std::string& identity, const std::string& name,
                                       proto::Envelope* reply_out = nullptr) {
    auto w = Connect(proto::ROLE_WORKER);
    proto::Envelope e;
    auto* rw = e.mutable_register_worker();
    rw->set_shuffle_address("127.0.0.1:9");
    rw->set_slots(1);
    rw->set_identity(identity);
    rw->set_name(name);
    rw->set_incarnation(1);
    proto::Envelope reply = Call(*w, e);
    if (reply_out != nullptr) *reply_out = reply;
    else EXPECT_TRUE(reply.has_register_reply()) << reply.ShortDebugString();
    return w;
  }
  std::shared_ptr<Peer> RegisterWorker(const std::string& identity) { return RegisterWorker(identity, identity); }

  // Submits a word count over `inputs` (split_size 0: the default), returning its job id.
  uint64_t SubmitWordCount(Peer& client, const std::vector<std::string>& inputs, uint64_t split_size = 0) {
    proto::Envelope submit;
    auto* spec = submit.mutable_submit_job()->mutable_spec();
    spec->set_job("wordcount");
    for (const std::string& in : inputs) spec->add_inputs(dir_ / in);
    spec->set_output(dir_ / "out");
    spec->set_reducers(1);
    if (split_size > 0) spec->set_split_size(split_size);
    proto::Envelope submitted = Call(client, submit);
    EXPECT_TRUE(submitted.has_submit_reply()) << submitted.ShortDebugString();
    return submitted.submit_reply().job_id();
  }

  // The worker list as the master reports it.
  proto::WorkerList Workers(Peer& client) {
    proto::Envelope e;
    e.mutable_list_workers();
    return Call(client, e).worker_list();
  }

  int LiveWorkers(Peer& client) {
    proto::Envelope e;
    e.mutable_list_workers();
    proto::Envelope reply = Call(client, e);
    EXPECT_TRUE(reply.has_worker_list()) << reply.ShortDebugString();
    return reply.worker_list().workers_size();
  }

  asio::io_context io_;
  ManualTimerSource clock_;
  TempDir dir_;
  std::unique_ptr<Master> master_;
};

TEST_F(MasterClockTest, AWorkerWithoutHeartbeatsIsDeclaredDeadOnceTheClockPassesTheTimeout) {
  StartMaster(Millis(1000));
  auto worker = RegisterWorker("silent");
  auto client = Connect(proto::ROLE_CLIENT);
  EXPECT_EQ(LiveWorkers(*client), 1);

  clock_.Advance(Millis(900));  // sweeps at 250, 500, 750: not silent for long enough yet
  EXPECT_EQ(LiveWorkers(*client), 1);
  EXPECT_FALSE(worker->closed) << worker->close_reason;

  clock_.Advance(Millis(400));  // the sweep at 1250 finds it silent for 1250 ms
  ASSERT_TRUE(RunUntil([&] { return worker->closed; }));
  EXPECT_EQ(LiveWorkers(*client), 0);
  EXPECT_FALSE(client->closed) << client->close_reason;
}

// Workers that advertise one shuffle address without a --name (simulated workers, say) are all
// admitted, the later ones with a suffix; an explicit name held by another worker is refused.
TEST_F(MasterClockTest, WorkersSharingAShuffleAddressGetDistinctNames) {
  StartMaster(Millis(1000));
  std::vector<std::shared_ptr<Peer>> peers;
  std::vector<std::string> names;
  for (const char* id : {"sim-1", "sim-2", "sim-3"}) {
    proto::Envelope reply;
    peers.push_back(RegisterWorker(id, "", &reply));
    ASSERT_TRUE(reply.has_register_reply()) << reply.ShortDebugString();
    names.push_back(reply.register_reply().worker_id());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"127.0.0.1:9", "127.0.0.1:9#2", "127.0.0.1:9#3"}));
  proto::Envelope refused;
  peers.push_back(RegisterWorker("sim-4", "127.0.0.1:9#2", &refused));
  ASSERT_TRUE(refused.has_error()) << refused.ShortDebugString();
  EXPECT_NE(refused.error().message().find("give each worker its own --name"), std::string::npos);
  auto client = Connect(proto::ROLE_CLIENT);
  EXPECT_EQ(LiveWorkers(*client), 3);
}

TEST_F(MasterClockTest, HeartbeatsKeepAWorkerAliveAsTheClockAdvances) {
  StartMaster(Millis(1000));
  auto worker = RegisterWorker("chatty");
  auto client = Connect(proto::ROLE_CLIENT);
  proto::Envelope hb;
  hb.mutable_heartbeat();
  for (int i = 0; i < 6; i++) {
    worker->channel->Send(hb);
    // A report is not answered, so wait until the master has read it: its age in the worker list
    // drops to 0 (the manual clock has not moved since it was sent).
    ASSERT_TRUE(RunUntil([&] {
      proto::WorkerList l = Workers(*client);
      return l.workers_size() == 1 && l.workers(0).heartbeat_age_ms() == 0;
    }));
    clock_.Advance(Millis(600));
  }
  EXPECT_EQ(LiveWorkers(*client), 1);
  EXPECT_FALSE(worker->closed) << worker->close_reason;
}

TEST_F(MasterClockTest, AConnectionThatNeverSaysHelloIsClosedWhenTheTimersFire) {
  StartMaster(Millis(10000));
  tcp::socket silent(io_);
  silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), master_->rpc_address().port));
  // The listener accepts in order: once a later connection has finished its hello, the silent one
  // was accepted (and its hello deadline set) at manual time 0.
  auto client = Connect(proto::ROLE_CLIENT);
  bool eof = false;
  char byte;
  silent.async_read_some(asio::buffer(&byte, 1), [&](const error_code& e, size_t) { eof = e.failed(); });

  clock_.Advance(Millis(9000));  // the hello timeout is 10 s
  EXPECT_EQ(LiveWorkers(*client), 0);
  EXPECT_FALSE(eof);

  clock_.Advance(Millis(1500));
  ASSERT_TRUE(RunUntil([&] { return eof; }));
  // The authenticated connection is not subject to the hello timeout.
  EXPECT_EQ(LiveWorkers(*client), 0);
  EXPECT_FALSE(client->closed) << client->close_reason;
}

// A registered worker that sends a frame the master cannot read (unparsable, then over the frame
// limit) keeps its connection: it gets an ErrorReply, and the attempt it ran fails, charged, and
// runs again; after kMaxAttempts such failures the job fails with the reason.
TEST_F(MasterClockTest, AnUnreadableFrameFromAWorkerFailsItsAttemptNotTheWorker) {
  StartMaster(Millis(60000));
  {
    std::ofstream f(dir_ / "a.txt");
    f << "one two\n";
  }
  auto worker = RegisterWorker("w");
  auto client = Connect(proto::ROLE_CLIENT);
  const uint64_t job = SubmitWordCount(*client, {"a.txt"});
  ASSERT_NE(job, 0u);

  auto next_assignment = [&]() -> proto::AssignTask {
    EXPECT_TRUE(RunUntil([&] {
      while (!worker->inbox.empty() && !worker->inbox.front().has_assign_task()) worker->inbox.pop_front();
      return !worker->inbox.empty() || worker->closed;
    }));
    if (worker->inbox.empty()) return {};
    proto::AssignTask a = worker->inbox.front().assign_task();
    worker->inbox.pop_front();
    return a;
  };
  std::string unparsable("\x00\x00\x00\x04\xff\xff\xff\xff", 8);
  std::string oversized;
  PutFixed32BE(&oversized, kDefaultMaxFrame + 1);
  oversized.append(kDefaultMaxFrame + 1, '\x07');
  for (uint32_t attempt = 1; attempt <= kMaxAttempts; attempt++) {
    proto::AssignTask a = next_assignment();
    ASSERT_EQ(a.kind(), proto::TASK_MAP) << "attempt " << attempt;
    ASSERT_EQ(a.attempt(), attempt);
    worker->channel->Send(attempt % 2 ? unparsable : oversized);
  }
  proto::Envelope get;
  get.mutable_get_job()->set_job_id(job);
  proto::JobStatus st;
  ASSERT_TRUE(RunUntil([&] {
    st = Call(*client, get).job_status().status();
    return st.state() == proto::JOB_FAILED;
  })) << st.ShortDebugString();
  EXPECT_NE(st.error().find("the worker sent a message the master cannot read"), std::string::npos) << st.error();
  EXPECT_FALSE(worker->closed) << worker->close_reason;
  EXPECT_EQ(LiveWorkers(*client), 1);
}

TEST_F(MasterClockTest, AStragglerGetsABackupAttemptWhenTheClockAdvances) {
  StartMaster(Millis(60000));  // sweeps every second; no worker is timed out here
  // Two files of exactly one split each (4096 bytes, the smallest split size), so two maps.
  for (const char* name : {"a.txt", "b.txt"}) {
    std::ofstream f(dir_ / name);
    for (int i = 0; i < 256; i++) f << "one two three x\n";
  }
  auto fast = RegisterWorker("fast");
  auto slow = RegisterWorker("slow");
  auto client = Connect(proto::ROLE_CLIENT);
  const uint64_t job = SubmitWordCount(*client, {"a.txt", "b.txt"}, 4096);
  ASSERT_NE(job, 0u);

  // One map each (one slot each).
  ASSERT_TRUE(RunUntil([&] { return !fast->inbox.empty() && !slow->inbox.empty(); }));
  proto::AssignTask fast_map = fast->inbox.front().assign_task();
  proto::AssignTask slow_map = slow->inbox.front().assign_task();
  fast->inbox.clear();
  slow->inbox.clear();
  ASSERT_EQ(fast_map.kind(), proto::TASK_MAP);
  ASSERT_EQ(slow_map.kind(), proto::TASK_MAP);
  ASSERT_NE(fast_map.index(), slow_map.index());

  // The fast worker finishes its map at once (a median of 0 ms: the backup threshold is
  // kMinBackupMs, 1 s); the slow one says nothing.
  proto::Envelope report;
  auto* r = report.mutable_task_report();
  r->set_job_id(job);
  r->set_kind(proto::TASK_MAP);
  r->set_index(fast_map.index());
  r->set_attempt(fast_map.attempt());
  r->set_ok(true);
  fast->channel->Send(report);
  proto::Envelope get;
  get.mutable_get_job()->set_job_id(job);
  ASSERT_TRUE(RunUntil([&] { return Call(*client, get).job_status().status().maps_done() == 1; }));

  // Every event (this request too) and every sweep reconsiders backups: at 900 ms the slow map
  // is not a straggler yet.
  clock_.Advance(Millis(900));
  EXPECT_EQ(LiveWorkers(*client), 2);
  EXPECT_TRUE(fast->inbox.empty()) << fast->inbox.front().ShortDebugString();

  clock_.Advance(Millis(1100));  // the sweep at 1000 (not more than 1 s yet), then at 2000
  ASSERT_TRUE(RunUntil([&] { return !fast->inbox.empty(); }));
  ASSERT_TRUE(fast->inbox.front().has_assign_task()) << fast->inbox.front().ShortDebugString();
  const proto::AssignTask& backup = fast->inbox.front().assign_task();
  EXPECT_EQ(backup.kind(), proto::TASK_MAP);
  EXPECT_EQ(backup.index(), slow_map.index());
  EXPECT_NE(backup.attempt(), slow_map.attempt());
  EXPECT_TRUE(slow->inbox.empty());
  EXPECT_FALSE(slow->closed) << slow->close_reason;
}

TEST_F(MasterClockTest, AWorkerHeartbeatsOnItsTimersAndRegistersAgainAfterBeingDeclaredDead) {
  StartMaster(Millis(1000));
  ManualTimerSource worker_clock;
  WorkerOptions o;
  o.master = master_->rpc_address();
  o.data_dir = dir_ / "worker";
  o.listen = {"127.0.0.1", 0};
  o.slots = 1;
  o.heartbeat = Millis(300);
  o.name = "w1";
  o.tls = Tls();
  auto worker = std::make_unique<Worker>(io_, o, &worker_clock);
  Status st = worker->Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil([&] { return worker->worker_id() == "w1"; }));
  auto client = Connect(proto::ROLE_CLIENT);

  // Both clocks run: every heartbeat the worker's timers send keeps it alive past the timeout.
  for (int i = 0; i < 6; i++) {
    worker_clock.Advance(Millis(300));
    ASSERT_TRUE(RunUntil([&] {
      proto::WorkerList l = Workers(*client);
      return l.workers_size() == 1 && l.workers(0).heartbeat_age_ms() == 0;
    }));
    clock_.Advance(Millis(300));
  }
  EXPECT_EQ(LiveWorkers(*client), 1);

  // The worker's clock stops: no heartbeats, and the master declares it dead.
  clock_.Advance(Millis(1300));
  ASSERT_TRUE(RunUntil([&] { return worker->worker_id().empty(); }));
  EXPECT_EQ(LiveWorkers(*client), 0);

  // Its reconnect backoff runs on its clock too: it comes back as the same worker.
  worker_clock.Advance(Millis(5000));
  ASSERT_TRUE(RunUntil([&] { return worker->worker_id() == "w1"; }));
  EXPECT_EQ(LiveWorkers(*client), 1);

  worker->Stop();
  EXPECT_TRUE(worker->Join(Millis(10000)));
  io_.poll();
}

// A worker without --allow-user-code starts no command and loads no library, whatever it is sent:
// a "master" (holding the cluster token) that sends it a streaming and a plugin task gets each
// refused in a report, and the command never runs.
TEST(WorkerPolicyTest, AWorkerWithoutAllowUserCodeRefusesUserCodeWhateverItIsSent) {
  asio::io_context io;
  TempDir dir;
  std::vector<proto::Envelope> reports;
  std::shared_ptr<Channel> worker_channel;
  auto master = RpcServer::Start(
      io, "fake-master", {"127.0.0.1", 0}, Tls(), {proto::ROLE_WORKER},
      [&](const std::shared_ptr<Channel>& ch, proto::Role) {
        worker_channel = ch;
        Channel* raw = ch.get();
        return ChannelHandlers{[&, raw](proto::Envelope& m) {
                                 if (m.has_register_worker()) {
                                   proto::Envelope reply;
                                   reply.mutable_register_reply()->set_worker_id("w");
                                   raw->Send(reply);
                                 } else if (m.has_task_report()) {
                                   reports.push_back(m);
                                 }
                               },
                               nullptr};
      });
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  WorkerOptions o;
  o.master = (*master)->address();
  o.data_dir = dir / "worker";
  o.tls = Tls();
  auto worker = std::make_unique<Worker>(io, o);
  ASSERT_TRUE(worker->Start().ok());
  auto run_until = [&](const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred() && std::chrono::steady_clock::now() < deadline) io.run_one_for(Millis(10));
    return pred();
  };
  ASSERT_TRUE(run_until([&] { return worker->worker_id() == "w"; }));
  const std::string marker = dir / "ran";
  proto::Envelope streaming;
  auto* t = streaming.mutable_assign_task();
  t->set_job_id(1);
  t->set_kind(proto::TASK_MAP);
  t->set_attempt(1);
  t->set_mapper("touch " + marker + "; cat");
  t->mutable_split()->set_path(dir / "nothing");
  proto::Envelope plugin = streaming;
  plugin.mutable_assign_task()->clear_mapper();
  plugin.mutable_assign_task()->set_job_lib(dir / "evil.so");
  plugin.mutable_assign_task()->set_attempt(2);
  worker_channel->Send(streaming);
  worker_channel->Send(plugin);
  ASSERT_TRUE(run_until([&] { return reports.size() == 2; }));
  for (const auto& r : reports) {
    EXPECT_FALSE(r.task_report().ok());
    EXPECT_NE(r.task_report().error().find("does not run user code"), std::string::npos) << r.task_report().error();
  }
  EXPECT_FALSE(fs::exists(marker));
  worker->Stop();
  EXPECT_TRUE(worker->Join(Millis(10000)));
  (*master)->Stop();
  io.poll();
}

}  // namespace
}  // namespace mr
