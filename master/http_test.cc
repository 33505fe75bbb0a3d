// The master's observability: the Scheduler's task histories and views, the JSON API and metrics
// built from them (driven directly, time passed in), and the HTTP server over real loopback sockets
// with well-formed and hostile requests.
#include <unistd.h>

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/raw_socket_testing.h"
#include "master/http_api.h"
#include "master/http_server.h"
#include "master/scheduler.h"
#include "master/scheduler_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ObservabilityTest : public testing::SchedulerFixture {
 protected:
  AdmittedJob Spec() { return testing::TestJob(1); }
  proto::TaskReport Report(const proto::AssignTask& a, bool ok, const std::string& error = "") {
    proto::TaskReport r = EndOf(a, ok, error, "a\t1\n");
    (*r.mutable_counters())["map.input.bytes"] = 100;
    (*r.mutable_counters())["shuffle.bytes"] = a.kind() == proto::TASK_REDUCE ? 7 : 0;
    return r;
  }
  json Get(const std::string& path, unsigned expect_status = 200) {
    HttpRequest req;
    req.method = "GET";
    req.path = path.substr(0, path.find('?'));
    if (path.find('?') != std::string::npos) req.query = path.substr(path.find('?') + 1);
    HttpResponse r = api_.Handle(req);
    EXPECT_EQ(r.status, expect_status) << path << ": " << r.body;
    if (r.content_type != "application/json") return json();
    return json::parse(r.body);
  }
  const proto::TaskHistory* FindTask(const std::vector<proto::TaskHistory>& tasks, proto::TaskKind kind,
                                     uint32_t index) {
    for (auto& t : tasks) {
      if (t.kind() == kind && t.index() == index) return &t;
    }
    return nullptr;
  }

  int64_t now_ = 1000000;
  HttpApi api_{s_, Info(), [this] { return now_; }};
  static MasterInfo Info() {
    MasterInfo i;
    i.rpc_address = i.rpc_listen = "127.0.0.1:7070";
    i.http_address = i.http_listen = "127.0.0.1:7071";
    i.data_dir = "/tmp/m";
    i.started_ms = 1000;
    i.worker_timeout_ms = 10000;
    i.ready = true;
    return i;
  }
};

TEST_F(ObservabilityTest, TaskHistoriesFailuresAndTotalsFollowTheJob) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 2, now_);
  s_.AddWorker("w2", "127.0.0.1:2", 2, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);

  // While it runs: every map running, no reduce started.
  json j = Get("/api/jobs/1");
  EXPECT_EQ(j["state"], "running");
  ASSERT_EQ(j["tasks"].size(), 4u);
  EXPECT_EQ(j["maps"]["running"], 3);
  EXPECT_EQ(j["tasks"][0]["state"], "running");
  EXPECT_EQ(j["tasks"][0]["history"].size(), 1u);
  EXPECT_EQ(j["tasks"][3]["kind"], "reduce");
  EXPECT_EQ(j["tasks"][3]["state"], "idle");

  // Map 0 fails once and is retried; its history shows both attempts.
  auto first = fx.assignments;
  proto::AssignTask map0;
  std::string map0_worker;
  for (auto& [w, a] : first) {
    if (a.index() == 0) {
      map0 = a;
      map0_worker = w;
    }
  }
  now_ += 500;
  Effects f2;
  OnReport(map0_worker, Report(map0, false, "disk on fire"), now_, &f2);
  ASSERT_EQ(f2.assignments.size(), 1u);
  auto tasks = s_.Tasks(1, now_);
  ASSERT_TRUE(tasks.ok());
  const proto::TaskHistory* t0 = FindTask(*tasks, proto::TASK_MAP, 0);
  ASSERT_NE(t0, nullptr);
  EXPECT_EQ(t0->state(), "running");
  EXPECT_EQ(t0->attempts(), 2u);
  EXPECT_EQ(t0->failures(), 1u);
  EXPECT_EQ(t0->last_error(), "disk on fire");
  ASSERT_EQ(t0->history().size(), 2u);
  EXPECT_EQ(OutcomeOf(t0->history(0)), AttemptOutcome::kFailed);
  EXPECT_EQ(t0->history(0).end_ms() - t0->history(0).start_ms(), 500);
  EXPECT_EQ(t0->history(0).worker(), map0_worker);
  EXPECT_EQ(OutcomeOf(t0->history(1)), AttemptOutcome::kRunning);
  auto st = s_.JobStatus(1);
  ASSERT_EQ(st->failed_attempts_size(), 1);
  EXPECT_EQ(st->failed_attempts(0).error(), "disk on fire");
  EXPECT_EQ(st->failed_attempts(0).worker(), map0_worker);
  EXPECT_EQ(st->failed_attempts(0).attempt(), 1u);
  j = Get("/api/jobs");
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_EQ(j["jobs"][0]["failed_attempts"][0]["error"], "disk on fire");

  std::string metrics = api_.Metrics(now_);
  EXPECT_NE(metrics.find("# HELP mr_tasks "), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE mr_tasks gauge\n"), std::string::npos);
  EXPECT_NE(metrics.find("mr_tasks{kind=\"map\",state=\"running\"} 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_tasks{kind=\"reduce\",state=\"idle\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_jobs{state=\"running\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_attempts_failed_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE mr_attempts_failed_total counter\n"), std::string::npos);
  EXPECT_NE(metrics.find("mr_workers_alive 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_worker_heartbeat_age_seconds{worker=\"w1\"} "), std::string::npos) << metrics;

  // Everything succeeds.
  std::vector<std::pair<std::string, proto::AssignTask>> pending = f2.assignments;
  for (auto& [w, a] : first) {
    if (a.index() != 0) pending.emplace_back(w, a);
  }
  while (!pending.empty()) {
    auto [w, a] = pending.back();
    pending.pop_back();
    now_ += 100;
    Effects f;
    OnReport(w, Report(a, true), now_, &f);
    pending.insert(pending.end(), f.assignments.begin(), f.assignments.end());
  }
  ASSERT_EQ(s_.JobStatus(1)->state(), proto::JOB_SUCCEEDED);

  // After the end, the tasks are still there, as they ended.
  j = Get("/api/jobs/1");
  EXPECT_EQ(j["state"], "succeeded");
  ASSERT_EQ(j["tasks"].size(), 4u);
  for (auto& t : j["tasks"]) {
    EXPECT_EQ(t["state"], "done") << t.dump();
    EXPECT_EQ(t["history"].back()["outcome"], "succeeded") << t.dump();
    EXPECT_GT(t["duration_ms"].get<int64_t>(), 0);
  }
  EXPECT_EQ(j["maps"]["done"], 3);
  EXPECT_EQ(j["reduces"]["done"], 1);
  EXPECT_EQ(j["counters"]["map.input.bytes"], 400);
  metrics = api_.Metrics(now_);
  EXPECT_NE(metrics.find("mr_jobs{state=\"succeeded\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_tasks{kind=\"map\",state=\"running\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_attempts_launched_total 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_attempts_succeeded_total 4\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_shuffle_bytes_total 7\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_map_input_bytes_total 400\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_counter_total{counter=\"shuffle.bytes\"} 7\n"), std::string::npos) << metrics;
  // Every sample belongs to a family announced with HELP and TYPE.
  std::istringstream lines(metrics);
  std::string line, family;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (!line.starts_with("#")) {
      EXPECT_TRUE(line.starts_with(family)) << line << " after TYPE " << family;
    }
  }
}

TEST_F(ObservabilityTest, LostWorkersAndKilledJobsShowInTheHistory) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 3, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  Effects f2;
  OnReport("w1", Report(fx.assignments[0].second, true), now_ + 10, &f2);
  s_.AddWorker("w2", "127.0.0.1:2", 3, now_ + 20);
  now_ += 30;
  Effects f3;
  s_.RemoveWorker("w1", "no heartbeat for 1000 ms", now_, &f3);
  ASSERT_EQ(f3.assignments.size(), 2u);  // the two lost attempts run again on w2 at once
  // The finished map's output waits for w1 to come back for the recovery grace, then runs again.
  now_ += SchedulerOptions().recovery_grace_ms;
  s_.Tick(now_, &f3);
  ASSERT_EQ(f3.assignments.size(), 3u);
  auto tasks = s_.Tasks(1, now_);
  ASSERT_TRUE(tasks.ok());
  for (uint32_t i = 0; i < 3; i++) {
    const proto::TaskHistory* t = FindTask(*tasks, proto::TASK_MAP, i);
    ASSERT_EQ(t->history().size(), 2u);
    EXPECT_EQ(OutcomeOf(t->history(0)), AttemptOutcome::kLost) << i;
    EXPECT_EQ(t->history(0).worker(), "w1");
    EXPECT_NE(t->history(0).error().find("w1"), std::string::npos) << t->history(0).error();
    EXPECT_EQ(t->history(1).worker(), "w2");
    EXPECT_EQ(t->worker(), "w2");
  }
  json w = Get("/api/workers");
  ASSERT_EQ(w["workers"].size(), 1u);
  EXPECT_EQ(w["workers"][0]["id"], "w2");
  ASSERT_EQ(w["lost"].size(), 1u);
  EXPECT_EQ(w["lost"][0]["id"], "w1");
  EXPECT_EQ(w["lost"][0]["reason"], "no heartbeat for 1000 ms");
  EXPECT_EQ(w["lost"][0]["tasks_succeeded"], 1);
  auto st = s_.JobStatus(1);
  EXPECT_EQ(st->failed_attempts_size(), 2);  // the two running attempts; the finished map is not a failure
  EXPECT_TRUE(st->failed_attempts(0).lost());

  Effects f4;
  ASSERT_TRUE(s_.Kill(1, now_ + 5, &f4).ok());
  tasks = s_.Tasks(1, now_ + 5);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 4u);
  const proto::TaskHistory* t = FindTask(*tasks, proto::TASK_MAP, 1);
  EXPECT_EQ(t->state(), "killed");
  EXPECT_EQ(OutcomeOf(t->history(t->history_size() - 1)), AttemptOutcome::kKilled);
  EXPECT_EQ(FindTask(*tasks, proto::TASK_REDUCE, 0)->state(), "idle");
  std::string metrics = api_.Metrics(now_);
  EXPECT_NE(metrics.find("mr_workers_lost_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_attempts_lost_total 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_maps_rerun_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_jobs{state=\"killed\"} 1\n"), std::string::npos) << metrics;
}

TEST_F(ObservabilityTest, WorkersComeInPagesWithTheirTotals) {
  for (int i = 0; i < 12; i++) s_.AddWorker("w" + std::to_string(10 + i), "127.0.0.1:1", 2, now_);
  json all = Get("/api/workers");
  EXPECT_EQ(all["workers"].size(), 12u);
  EXPECT_EQ(all["total"], 12);
  EXPECT_EQ(all["slots"], 24);
  EXPECT_EQ(all["slots_busy"], 0);
  json page = Get("/api/workers?limit=5&offset=10");
  ASSERT_EQ(page["workers"].size(), 2u);
  EXPECT_EQ(page["workers"][0]["id"], "w20");
  EXPECT_EQ(page["total"], 12);
  EXPECT_EQ(Get("/api/workers?offset=99")["workers"].size(), 0u);
  EXPECT_NE(Get("/api/workers?limit=0", 400)["error"].get<std::string>().find("limit must be 1 to"), std::string::npos);
  EXPECT_NE(Get("/api/workers?offset=x", 400)["error"].get<std::string>().find("offset must be a number"),
            std::string::npos);
  std::string metrics = api_.Metrics(now_ + 2000);
  EXPECT_NE(metrics.find("mr_slots 24\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mr_worker_heartbeat_age_max_seconds 2\n"), std::string::npos) << metrics;
}

TEST_F(ObservabilityTest, BackupAttemptsAndTheAttemptTheyBeatAreMarked) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  s_.AddWorker("w1", "127.0.0.1:1", 3, now_);
  Schedule(now_, &fx);
  ASSERT_EQ(fx.assignments.size(), 3u);
  s_.AddWorker("w2", "127.0.0.1:2", 3, now_);
  // Maps 0 and 1 finish quickly; map 2 straggles and gets a backup on w2, which wins.
  for (int i = 0; i < 2; i++) {
    Effects f;
    OnReport("w1", Report(fx.assignments[i].second, true), now_ + 100, &f);
  }
  now_ += 5000;
  Effects f2;
  Schedule(now_, &f2);
  ASSERT_EQ(f2.assignments.size(), 1u);
  EXPECT_EQ(f2.assignments[0].first, "w2");
  EXPECT_EQ(f2.assignments[0].second.index(), 2u);
  auto tasks = s_.Tasks(1, now_);
  const proto::TaskHistory* t = FindTask(*tasks, proto::TASK_MAP, 2);
  ASSERT_EQ(t->history().size(), 2u);
  EXPECT_FALSE(t->history(0).backup());
  EXPECT_TRUE(t->history(1).backup());
  EXPECT_EQ(t->backups(), 1u);
  Effects f3;
  OnReport("w2", Report(f2.assignments[0].second, true), now_ + 50, &f3);
  tasks = s_.Tasks(1, now_ + 50);
  t = FindTask(*tasks, proto::TASK_MAP, 2);
  EXPECT_EQ(t->state(), "done");
  EXPECT_EQ(t->worker(), "w2");
  EXPECT_EQ(t->duration_ms(), 50);
  EXPECT_EQ(OutcomeOf(t->history(0)), AttemptOutcome::kSuperseded);
  EXPECT_EQ(t->history(0).end_ms(), now_ + 50);
  EXPECT_EQ(OutcomeOf(t->history(1)), AttemptOutcome::kSucceeded);
  EXPECT_NE(api_.Metrics(now_).find("mr_attempts_backup_total 1\n"), std::string::npos);
  EXPECT_EQ(s_.JobStatus(1)->failed_attempts_size(), 0);
}

TEST_F(ObservabilityTest, FinishedJobsAreJournaledRestoredAndForgottenByCountAndAge) {
  Scheduler s{SchedulerOptions{10000, /*history_jobs=*/2, /*history_age_ms=*/60000}};
  Effects fx;
  s.AddWorker("alpha", "127.0.0.1:1", 3, now_);
  for (uint64_t id = 1; id <= 3; id++) {
    AdmittedJob job = Spec();
    job.spec.set_output(job.spec.output() + std::to_string(id));
    ASSERT_TRUE(s.Submit(id, std::move(job), now_, &fx).ok());
  }
  s.Schedule(now_, &fx);
  testing::Settle(s, &fs_, now_, &fx);
  ASSERT_FALSE(fx.assignments.empty());
  proto::AssignTask first = fx.assignments[0].second;
  ASSERT_EQ(first.job_id(), 1u);
  proto::TaskReport r = Report(first, true);
  (*r.mutable_counters())["map.input.records"] = 42;
  Effects f1;
  s.OnReport("alpha", r, now_ + 10, &f1);
  testing::Settle(s, &fs_, now_ + 10, &f1);
  ASSERT_TRUE(s.Kill(1, now_ + 20, &f1).ok());
  ASSERT_EQ(f1.histories.size(), 1u);
  proto::JobHistory h;
  ASSERT_TRUE(h.ParseFromString(f1.histories[0].second));
  EXPECT_EQ(f1.histories[0].first, 1u);
  EXPECT_EQ(h.job_id(), 1u);
  ASSERT_EQ(h.tasks_size(), 4);
  const proto::AttemptRecord& a = h.tasks(static_cast<int>(first.index())).history(0);
  EXPECT_EQ(a.worker(), "alpha");
  EXPECT_EQ(a.outcome(), "succeeded");
  EXPECT_EQ(a.records_in(), 42);
  EXPECT_EQ(a.bytes_in(), 100);

  // A restarted master shows the same tasks.
  Scheduler restarted;
  Effects f2;
  auto status = s.JobStatus(1);
  ASSERT_TRUE(status.ok());
  restarted.Restore(*status, {}, Status::NotFound("no plan"), {}, now_ + 30, &f2);
  restarted.RestoreHistory(h);
  auto before = s.Tasks(1, now_ + 30), after = restarted.Tasks(1, now_ + 30);
  ASSERT_TRUE(before.ok() && after.ok());
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < before->size(); i++) {
    EXPECT_EQ((*after)[i].SerializeAsString(), (*before)[i].SerializeAsString()) << i;
  }

  // Three finished jobs, two kept: the one that ended first goes; then age takes the rest.
  ASSERT_TRUE(s.Kill(3, now_ + 30, &f1).ok());
  ASSERT_TRUE(s.Kill(2, now_ + 40, &f1).ok());
  Effects f3;
  s.Tick(now_ + 50, &f3);
  EXPECT_EQ(f3.forgotten_jobs, std::vector<uint64_t>{1});
  EXPECT_FALSE(s.JobStatus(1).ok());
  EXPECT_TRUE(s.JobStatus(2).ok());
  Effects f4;
  s.Tick(now_ + 35 + 60000, &f4);
  EXPECT_EQ(f4.forgotten_jobs, std::vector<uint64_t>{3}) << "job 3 ended first";
  Effects f5;
  s.Tick(now_ + 41 + 60000, &f5);
  EXPECT_EQ(f5.forgotten_jobs, std::vector<uint64_t>{2});
  EXPECT_TRUE(s.AllJobs().empty());
}

TEST_F(ObservabilityTest, RoutesAndErrors) {
  Effects fx;
  ASSERT_TRUE(s_.Submit(1, Spec(), now_, &fx).ok());
  json j = Get("/api/jobs/1");
  EXPECT_EQ(j["state"], "queued");
  EXPECT_TRUE(j["tasks"].empty());
  EXPECT_EQ(Get("/api/jobs/job-1")["id"], 1);
  EXPECT_EQ(Get("/api/jobs/2", 404)["error"], "no job 2");
  Get("/api/jobs/abc", 404);
  Get("/api/jobs/99999999999999999999999", 404);
  Get("/api/nope", 404);
  Get("/nope", 404);
  EXPECT_EQ(Get("/api/master")["rpc_address"], "127.0.0.1:7070");
  HttpRequest req;
  req.method = "GET";
  req.path = "/";
  HttpResponse page = api_.Handle(req);
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>mr dashboard</title>"), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), page.body.find("http://www.w3.org/2000/svg"))  // nothing external
      << "the page must not load anything from elsewhere";
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  // Invalid UTF-8 in user text does not break the JSON.
  Get("/api/\xff\xfe", 404);
}

// Who sees what: a token opens everything (and a job's output to its owner or an admin); without
// one, only a loopback server answers, and only to a Host that names loopback, an IP address or
// this machine; /healthz and /readyz answer everyone.
TEST_F(ObservabilityTest, AccessNeedsATokenOffLoopbackAndTheOutputIsItsOwners) {
  Effects fx;
  AdmittedJob job = Spec();
  job.spec.set_owner("alice");
  ASSERT_TRUE(s_.Submit(1, std::move(job), now_, &fx).ok());
  HttpAccess& access = api_.access();
  access.check = [](std::string_view token) {
    PeerCredential c;
    if (token == "alice-token") {
      c.kind = PeerCredential::Kind::kUser;
      c.user = "alice";
    } else if (token == "bob-token") {
      c.kind = PeerCredential::Kind::kUser;
      c.user = "bob";
    } else if (token == "cluster-token") {
      c.kind = PeerCredential::Kind::kCluster;
      c.admin = true;
    }
    return c;
  };
  access.host_names = {"mr-master"};
  auto ask = [&](const std::string& path, const std::string& host, const std::string& token) {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.host = host;
    if (!token.empty()) req.authorization = "Bearer " + token;
    return api_.Handle(req);
  };
  // On loopback: served without a token, but a Host of another name is refused.
  access.loopback = true;
  EXPECT_EQ(ask("/api/jobs", "127.0.0.1:7071", "").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "localhost", "").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "[::1]:7071", "").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "mr-master:7071", "").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "rebound.attacker.example", "").status, 403u);
  EXPECT_EQ(ask("/api/jobs", "rebound.attacker.example", "alice-token").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "127.0.0.1", "wrong").status, 401u);
  // Off loopback: a token for all but the probes (and the page, which asks for one).
  access.loopback = false;
  EXPECT_EQ(ask("/api/jobs", "10.0.0.10:7071", "").status, 401u);
  EXPECT_EQ(ask("/metrics", "10.0.0.10:7071", "").status, 401u);
  EXPECT_EQ(ask("/healthz", "anything", "").status, 200u);
  EXPECT_EQ(ask("/readyz", "anything", "").status, 200u);
  EXPECT_EQ(ask("/", "10.0.0.10:7071", "").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "10.0.0.10:7071", "bob-token").status, 200u);
  EXPECT_EQ(ask("/api/jobs", "10.0.0.10:7071", "").headers.at("WWW-Authenticate"), "Bearer realm=\"mr\"");
  // The output preview: alice's and the admin's, not bob's nor an anonymous one's.
  now_ += 10;
  s_.AddWorker("w1", "w1:1", 2, now_);
  std::deque<std::pair<std::string, proto::AssignTask>> todo;
  Schedule(now_, &fx);
  todo.insert(todo.end(), fx.assignments.begin(), fx.assignments.end());
  while (!todo.empty()) {
    auto [worker, a] = todo.front();
    todo.pop_front();
    Effects more;
    OnReport(worker, Report(a, true), now_, &more);
    Schedule(now_, &more);
    todo.insert(todo.end(), more.assignments.begin(), more.assignments.end());
  }
  ASSERT_EQ(s_.JobStatus(1)->state(), proto::JOB_SUCCEEDED);
  access.loopback = true;
  json anonymous = json::parse(ask("/api/jobs/1", "127.0.0.1", "").body);
  EXPECT_FALSE(anonymous.contains("output_preview")) << anonymous.dump();
  EXPECT_NE(anonymous.value("output_preview_hidden", "").find("owner (alice)"), std::string::npos);
  EXPECT_FALSE(json::parse(ask("/api/jobs/1", "127.0.0.1", "bob-token").body).contains("output_preview"));
  EXPECT_TRUE(json::parse(ask("/api/jobs/1", "127.0.0.1", "alice-token").body).contains("output_preview"));
  EXPECT_TRUE(json::parse(ask("/api/jobs/1", "127.0.0.1", "cluster-token").body).contains("output_preview"));
  EXPECT_EQ(json::parse(ask("/api/jobs", "127.0.0.1", "").body)["jobs"][0]["owner"], "alice");
}

// ---------------------------------------------------------------- the server over sockets

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.idle_timeout = std::chrono::milliseconds(300);
    o.header_timeout = std::chrono::milliseconds(300);
    o.max_header_bytes = 2048;
    o.max_connections = 8;
    auto s = HttpServer::Start(io_, {"127.0.0.1", 0}, [](const HttpRequest& r) {
      if (r.path == "/boom") throw std::runtime_error("boom");
      HttpResponse res;
      res.body = "hello " + r.path + (r.query.empty() ? "" : "?" + r.query);
      if (r.path == "/who") res.body = "host " + r.host + " auth " + r.authorization;
      return res;
    }, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = *s;
    port_ = server_->address().port;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->Stop(); });
    io_.stop();
    thread_.join();
  }
  int Connect() { return RawConnect(port_, std::chrono::seconds(5)); }
  std::string Exchange(const std::string& request, bool* closed = nullptr) {
    int fd = Connect();
    SendBytes(fd, request);
    std::string r = ReadToEnd(fd, closed);
    ::close(fd);
    return r;
  }
  static std::string Get(const std::string& path, const std::string& host = "127.0.0.1") {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  }

  asio::io_context io_;
  std::shared_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(HttpServerTest, ServesGetAndHead) {
  std::string r = Exchange(Get("/x?a=1"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("\r\n\r\nhello /x?a=1"), std::string::npos) << r;
  EXPECT_NE(r.find("Cache-Control: no-store"), std::string::npos) << r;
  r = Exchange("HEAD /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("Content-Length: 8\r\n"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\n")) << "HEAD has no body: " << r;
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  int fd = Connect();
  SendBytes(fd, "GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string r = ReadToEnd(fd);
  ::close(fd);
  EXPECT_NE(r.find("hello /a"), std::string::npos) << r;
  EXPECT_NE(r.find("hello /b"), std::string::npos) << r;
}

TEST_F(HttpServerTest, RefusesWritesHostileRequestsAndForeignHosts) {
  std::string r = Exchange("POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 405")) << r;
  EXPECT_NE(r.find("Allow: GET, HEAD"), std::string::npos) << r;
  bool closed = false;
  r = Exchange("\x16\x03\x01 garbage garbage\r\n\r\n", &closed);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400")) << r;
  EXPECT_TRUE(closed);
  r = Exchange("GET /" + std::string(100000, 'a') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &closed);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431")) << r.substr(0, 200);
  EXPECT_TRUE(closed);
  r = Exchange("POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'b'),
               &closed);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 413")) << r.substr(0, 200);
  // The Host header and a bearer token reach the handler (HttpApi decides what they allow).
  r = Exchange("GET /who HTTP/1.1\r\nHost: evil.example.com:80\r\nAuthorization: Bearer t0k\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("host evil.example.com:80 auth Bearer t0k"), std::string::npos) << r;
  r = Exchange(Get("/boom"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 500")) << r;
  // None of it affected the server.
  r = Exchange(Get("/still"));
  EXPECT_NE(r.find("hello /still"), std::string::npos) << r;
}

TEST_F(HttpServerTest, IdleAndSlowConnectionsAreClosedWithoutBlockingOthers) {
  int idle = Connect();
  int slow = Connect();
  SendBytes(slow, "GET /slow HTTP/1.1\r\nHo");  // never finishes its header
  // Others are served meanwhile.
  EXPECT_NE(Exchange(Get("/other")).find("hello /other"), std::string::npos);
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  ReadToEnd(idle, &closed);
  EXPECT_TRUE(closed);
  ReadToEnd(slow, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ::close(idle);
  ::close(slow);
}

// Beyond the connection budget, accepting waits until the oldest connection still waiting for a
// request has waited kRequestGrace, then closes it: a real request gets in, and the budget holds.
TEST(HttpServerBudgetTest, OldestStalledConnectionsMakeRoomForNewOnes) {
  asio::io_context io;
  HttpServerOptions o;
  o.max_connections = 4;
  o.header_timeout = std::chrono::seconds(60);  // only the budget can close the stalled ones
  auto s = HttpServer::Start(io, {"127.0.0.1", 0}, [](const HttpRequest& r) {
    HttpResponse res;
    res.body = "hello " + r.path;
    return res;
  }, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto server = *s;
  std::thread thread([&] { io.run(); });
  const uint16_t port = server->address().port;
  std::vector<int> stalled;
  for (int i = 0; i < 6; i++) {
    stalled.push_back(RawConnect(port, std::chrono::seconds(10)));
    SendBytes(stalled.back(), "GET /stalled HTTP/1.1\r\nHo");
  }
  int fd = RawConnect(port, std::chrono::seconds(10));
  SendBytes(fd, "GET /real HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string r = ReadToEnd(fd);
  ::close(fd);
  EXPECT_NE(r.find("hello /real"), std::string::npos) << r;
  // The three oldest made room (for two stalled ones and the real one); the newest still wait.
  for (int i = 0; i < 3; i++) EXPECT_TRUE(ClosedByPeer(stalled[i], std::chrono::seconds(5))) << i;
  EXPECT_FALSE(ClosedByPeer(stalled[5], std::chrono::milliseconds(200)));
  size_t open = 0;
  asio::post(io, [&] { open = server->connections(); });
  asio::post(io, [&] { server->Stop(); io.stop(); });
  thread.join();
  EXPECT_LE(open, 4u);
  for (int f : stalled) ::close(f);
}

}  // namespace
}  // namespace mr
