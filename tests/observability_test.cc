// Observability end to end (DESIGN §7, issue 5): a real cluster whose maps are slowed by a
// failpoint, watched over real HTTP while the job runs and after it ends — /api/jobs, /api/jobs/1,
// /api/workers and /metrics checked against the job's real state (`mr status --json`) — the
// dashboard page served, hostile HTTP requests refused without harm, and the progress display of
// `mr run` in a pseudo-terminal (a bar redrawn in place) and in a pipe (plain lines).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "common/credentials.h"
#include "common/raw_socket_testing.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Millis = std::chrono::milliseconds;

// The value of one sample of a metrics page ("name{labels}"), or -1.
double Metric(const std::string& page, const std::string& sample) {
  size_t at = 0;
  while ((at = page.find(sample + " ", at)) != std::string::npos) {
    if (at == 0 || page[at - 1] == '\n') return std::stod(page.substr(at + sample.size() + 1));
    at++;
  }
  return -1;
}

// ---------------------------------------------------------------- fixtures

// Exactly `kb` KiB of lines of words, deterministic.
std::string Text(size_t kb, int seed) {
  std::mt19937 rng(seed);
  const char* words[] = {"map", "reduce", "shuffle", "worker", "master", "split", "spill", "merge", "heartbeat"};
  std::string t;
  while (t.size() < kb * 1024) {
    for (int i = 0; i < 8; i++) t += std::string(words[rng() % 9]) + (i == 7 ? "\n" : " ");
  }
  t.resize(kb * 1024 - 1);  // exactly kb KiB: a whole number of splits
  return t + "\n";
}

class ObservabilityTest : public ::testing::Test {
 protected:
  // 4 files of 160 KiB in 16 KiB splits: 40 map tasks.
  std::string MakeInput() {
    std::string dir = tmp_ / "in";
    fs::create_directories(dir);
    for (int i = 0; i < 4; i++) WriteFile(fmt::format("{}/part-{}.txt", dir, i), Text(160, i));
    return dir;
  }
  TempDir tmp_;
};

TEST_F(ObservabilityTest, ApiAndMetricsFollowARealJobWhileItRunsAndAfter) {
  std::string input = MakeInput();
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  ASSERT_FALSE(cluster.http_address().empty()) << "the master wrote no http line into ADDRESS";
  const std::string http = cluster.http_address();
  // Maps are slowed so the job can be watched; the first map on the first worker fails once.
  ASSERT_TRUE(cluster.StartWorker({"--slots", "2", "--name", "w1"}, {"MR_FAILPOINTS=map.after_read=delay(200ms);map.start=1*error"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());  // the first to register
  ASSERT_TRUE(cluster.StartWorker({"--slots", "2", "--name", "w2"}, {"MR_FAILPOINTS=map.after_read=delay(200ms)"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());

  // Before any job.
  json workers = GetJson(http, "/api/workers");
  ASSERT_EQ(workers["workers"].size(), 2u) << workers.dump();
  EXPECT_TRUE(GetJson(http, "/api/jobs")["jobs"].empty());
  EXPECT_EQ(Http(http, "/api/jobs/1").status, 404);
  std::string metrics = Http(http, "/metrics").body;
  EXPECT_EQ(Metric(metrics, "mr_workers_alive"), 2) << metrics;
  EXPECT_EQ(Metric(metrics, "mr_jobs{state=\"running\"}"), 0) << metrics;

  CommandResult submit = RunMr({"submit", "--master", cluster.master_address(), "--job", "wordcount", "--input", input,
                                "--output", tmp_ / "out", "--reducers", "3", "--split-size", "16k"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;

  // While it runs.
  int observed_mid_job = 0;
  std::set<std::string> seen_workers;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  JobState status;
  while (std::chrono::steady_clock::now() < deadline) {
    json before = GetJson(http, "/api/jobs/1");
    status = cluster.Job(1);
    json after = GetJson(http, "/api/jobs/1");
    if (status.state != "running" || after["state"] != "running") {
      if (status.state == "succeeded" || status.state == "failed") break;
      continue;
    }
    // The API agrees with the job's real state: totals exactly, progress between two readings.
    EXPECT_EQ(after["maps"]["total"], status.maps_total);
    EXPECT_EQ(after["reduces"]["total"], status.reduces_total);
    EXPECT_LE(before["maps"]["done"].get<int>(), status.maps_done);
    EXPECT_GE(after["maps"]["done"].get<int>(), status.maps_done);
    // Inside one answer, the task list matches the counts.
    const json& tasks = after["tasks"];
    ASSERT_EQ(tasks.size(), static_cast<size_t>(status.maps_total + status.reduces_total));
    int done = 0, running = 0;
    for (const json& t : tasks) {
      done += t["state"] == "done";
      running += t["state"] == "running";
      if (t["state"] == "running") {
        ASSERT_FALSE(t["history"].empty()) << t.dump();
        EXPECT_EQ(t["history"].back()["outcome"], "running") << t.dump();
        EXPECT_EQ(t["worker"], t["history"].back()["worker"]) << t.dump();
      }
      for (const json& a : t["history"]) seen_workers.insert(a["worker"]);
    }
    EXPECT_EQ(done, after["maps"]["done"].get<int>() + after["reduces"]["done"].get<int>());
    EXPECT_EQ(running, after["maps"]["running"].get<int>() + after["reduces"]["running"].get<int>());
    EXPECT_LE(running, 4) << "more attempts running than slots";
    json ws = GetJson(http, "/api/workers");
    EXPECT_EQ(ws["workers"].size(), 2u);
    for (const json& w : ws["workers"]) EXPECT_LE(w["running"].get<int>(), w["slots"].get<int>());
    metrics = Http(http, "/metrics").body;
    EXPECT_EQ(Metric(metrics, "mr_workers_alive"), 2);
    // The job may end between two readings; only a scrape taken between two "running" answers must
    // show it running (a job never goes back to running).
    if (GetJson(http, "/api/jobs/1")["state"] == "running") {
      EXPECT_EQ(Metric(metrics, "mr_jobs{state=\"running\"}"), 1) << metrics;
      EXPECT_EQ(Metric(metrics, "mr_tasks{kind=\"map\",state=\"idle\"}") +
                    Metric(metrics, "mr_tasks{kind=\"map\",state=\"running\"}") +
                    Metric(metrics, "mr_tasks{kind=\"map\",state=\"done\"}"),
                status.maps_total)
          << metrics;
    }
    if (status.maps_done > 0 && status.maps_done < status.maps_total) observed_mid_job++;
    std::this_thread::sleep_for(Millis(100));
  }
  ASSERT_EQ(status.state, "succeeded") << status.json;
  EXPECT_GE(observed_mid_job, 2) << "the job was never seen half-way through its maps";
  EXPECT_EQ(seen_workers, (std::set<std::string>{"w1", "w2"}));

  // After it ends: everything matches `mr status --json` exactly.
  status = cluster.Job(1);
  json real = json::parse(status.json);
  json job = GetJson(http, "/api/jobs/1");
  EXPECT_EQ(job["state"], "succeeded");
  EXPECT_EQ(job["maps"]["done"], status.maps_total);
  EXPECT_EQ(job["maps"]["total"], status.maps_total);
  EXPECT_EQ(status.maps_total, 40);
  EXPECT_EQ(job["reduces"]["done"], 3);
  EXPECT_EQ(job["counters"], real["counters"]);
  EXPECT_EQ(job["end_time_ms"], real["end_time_ms"]);
  ASSERT_EQ(job["tasks"].size(), 43u);
  int64_t start = job["start_time_ms"], end = job["end_time_ms"];
  int failed_attempts = 0;
  for (const json& t : job["tasks"]) {
    EXPECT_EQ(t["state"], "done") << t.dump();
    ASSERT_FALSE(t["history"].empty());
    int wins = 0;  // (a backup attempt, if a slow machine caused one, is marked superseded)
    for (const json& a : t["history"]) wins += a["outcome"] == "succeeded";
    EXPECT_EQ(wins, 1) << t.dump();
    for (const json& a : t["history"]) {
      EXPECT_GE(a["start_ms"].get<int64_t>(), start);
      EXPECT_LE(a["end_ms"].get<int64_t>(), end);
      EXPECT_GE(a["end_ms"].get<int64_t>(), a["start_ms"].get<int64_t>());
      if (a["outcome"] == "failed") {
        failed_attempts++;
        EXPECT_NE(a["error"].get<std::string>().find("map.start"), std::string::npos) << a.dump();
        EXPECT_EQ(a["worker"], "w1");
      }
    }
  }
  EXPECT_EQ(failed_attempts, 1);
  EXPECT_EQ(status.Counter("attempts.failed"), 1);
  ASSERT_EQ(job["failed_attempts"].size(), 1u);
  EXPECT_EQ(job["failed_attempts"][0]["worker"], "w1");
  json list = GetJson(http, "/api/jobs");
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(list["jobs"][0]["counters"], real["counters"]);
  EXPECT_EQ(list["jobs"][0]["state"], "succeeded");

  workers = GetJson(http, "/api/workers");
  ASSERT_EQ(workers["workers"].size(), 2u);
  int64_t succeeded = 0, failed = 0;
  for (const json& w : workers["workers"]) {
    succeeded += w["tasks_succeeded"].get<int64_t>();
    failed += w["tasks_failed"].get<int64_t>();
    EXPECT_EQ(w["running"], 0);
    EXPECT_LT(w["heartbeat_age_ms"].get<int64_t>(), 5000);
  }
  EXPECT_EQ(succeeded, 43);
  EXPECT_EQ(failed, 1);

  metrics = Http(http, "/metrics").body;
  EXPECT_EQ(Metric(metrics, "mr_jobs{state=\"succeeded\"}"), 1) << metrics;
  EXPECT_EQ(Metric(metrics, "mr_jobs{state=\"running\"}"), 0);
  EXPECT_EQ(Metric(metrics, "mr_tasks{kind=\"map\",state=\"running\"}"), 0);
  EXPECT_EQ(Metric(metrics, "mr_attempts_launched_total"), status.Counter("attempts.launched"));
  EXPECT_EQ(Metric(metrics, "mr_attempts_failed_total"), 1);
  EXPECT_EQ(Metric(metrics, "mr_shuffle_bytes_total"), status.Counter("shuffle.bytes"));
  EXPECT_GT(status.Counter("shuffle.bytes"), 0);
  EXPECT_EQ(Metric(metrics, "mr_map_input_bytes_total"), status.Counter("map.input.bytes"));
  EXPECT_EQ(Metric(metrics, "mr_reduce_output_records_total"), status.Counter("reduce.output.records"));
  EXPECT_EQ(Metric(metrics, "mr_workers_alive"), 2);
  EXPECT_GE(Metric(metrics, "mr_worker_heartbeat_age_seconds{worker=\"w1\"}"), 0) << metrics;
  EXPECT_NE(metrics.find("# TYPE mr_attempts_failed_total counter\n"), std::string::npos);
  EXPECT_NE(metrics.find("# HELP mr_worker_heartbeat_age_seconds "), std::string::npos);
  EXPECT_EQ(Http(http, "/metrics").Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  // `mr status` names the failed attempt and its error.
  CommandResult st = RunMr({"status", "1", "--master", cluster.master_address()});
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_NE(st.out.find("failed attempts"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("on w1: failpoint map.start injected an error"), std::string::npos) << st.out;
  EXPECT_NE(real["failed_attempts"][0]["error"].get<std::string>().find("map.start"), std::string::npos);

  // The dashboard page.
  HttpResult page = Http(http, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>mr dashboard</title>"), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  HttpResult head = Http(http, "/", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(page.body.size()));
}

TEST_F(ObservabilityTest, HostileHttpRequestsAreRefusedAndTheServerKeepsServing) {
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  const std::string http = cluster.http_address();
  ASSERT_FALSE(http.empty());

  // A client that opens a request and never finishes it does not hold up anyone.
  int slow = RawConnect(http, std::chrono::seconds(10));
  ASSERT_GE(slow, 0);
  SendBytes(slow, "GET /api/jobs HTTP/1.1\r\nHost: 127.0.");

  bool closed = false;
  int fd = RawConnect(http, std::chrono::seconds(10));
  SendBytes(fd, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n", 30));
  std::string r = ReadToEnd(fd, &closed);
  ::close(fd);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 ")) << r;
  EXPECT_TRUE(closed) << "a garbage request must close its connection";

  fd = RawConnect(http, std::chrono::seconds(10));
  SendBytes(fd, "GET /" + std::string(1 << 20, 'x') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  r = ReadToEnd(fd, &closed);
  ::close(fd);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431 ")) << r.substr(0, 100);
  EXPECT_TRUE(closed);

  fd = RawConnect(http, std::chrono::seconds(10));
  std::string many_headers = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 2000; i++) many_headers += fmt::format("X-Junk-{}: {}\r\n", i, std::string(40, 'j'));
  SendBytes(fd, many_headers + "\r\n");
  r = ReadToEnd(fd, &closed);
  ::close(fd);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431 ")) << r.substr(0, 100);

  EXPECT_EQ(Http(http, "/api/jobs", "POST").status, 405);
  EXPECT_EQ(Http(http, "/api/jobs", "DELETE").status, 405);
  EXPECT_EQ(Http(http, "/api/jobs/999").status, 404);
  EXPECT_EQ(Http(http, "/api/jobs/999").Header("Content-Type"), "application/json");
  EXPECT_EQ(Http(http, "/nothing-here").status, 404);

  // Still serving, over HTTP and over RPC.
  EXPECT_EQ(Http(http, "/api/workers").status, 200);
  EXPECT_EQ(Http(http, "/").status, 200);
  EXPECT_TRUE(cluster.MasterAlive());
  EXPECT_EQ(RunMr({"jobs", "--master", cluster.master_address()}).exit_code, 0);
  ::close(slow);
}

// ---------------------------------------------------------------- progress of `mr run`

std::vector<std::string> RunArgs(const std::string& input, const std::string& output) {
  return {"run", "--job", "wordcount", "--input", input, "--output", output, "--workers", "2", "--slots", "1",
          "--split-size", "16k"};
}

TEST_F(ObservabilityTest, MrRunDrawsABarInATerminalAndLinesInAPipe) {
  std::string input = tmp_ / "in";
  fs::create_directories(input);
  WriteFile(input + "/a.txt", Text(320, 7));  // 20 maps of 16 KiB, 200 ms each, 2 at a time

  // In a pseudo-terminal 120 columns wide.
  winsize ws{};
  ws.ws_row = 30;
  ws.ws_col = 120;
  int master_fd = -1;
  std::vector<std::string> args = RunArgs(input, tmp_ / "out-tty");
  args.insert(args.begin(), MrBinary());
  pid_t pid = ::forkpty(&master_fd, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("MR_FAILPOINTS", "map.after_read=delay(200ms)", 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::string tty;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master_fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(master_fd, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the child has exited
    tty.append(buf, n);
  }
  ::close(master_fd);
  int wstatus = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 200 && (reaped = ::waitpid(pid, &wstatus, WNOHANG)) == 0; i++) {
    std::this_thread::sleep_for(Millis(50));  // the terminal closes a moment before the exit
  }
  if (reaped == 0) {
    ::kill(pid, SIGINT);
    ::waitpid(pid, &wstatus, 0);
    FAIL() << "mr run did not finish in a terminal:\n" << tty;
  }
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << tty;
  EXPECT_NE(tty.find("dashboard http://127.0.0.1:"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\x1b[K"), std::string::npos) << "the bar erases what it redraws over";

  // Frames are the text between carriage returns: "[=====>    ]  45%  map 9/20  reduce 0/1 ...".
  std::regex frame_re(R"(^\[([= >]+)\]\s+(\d+)%\s+(?:\w+\s+)?map (\d+)/(\d+)\s+reduce (\d+)/(\d+))");
  std::vector<std::tuple<int, int, int>> frames;  // (bar fill, percent, maps done)
  size_t widest = 0;
  bool saw_rate = false;
  for (size_t at = 0; (at = tty.find('\r', at)) != std::string::npos;) {
    size_t end = tty.find_first_of("\r\n", at + 1);
    std::string f = tty.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    at++;
    std::smatch m;
    if (!std::regex_search(f, m, frame_re) || m[4] == "0") continue;  // not started yet: 0 tasks
    std::string bar = m[1];
    frames.emplace_back(std::count(bar.begin(), bar.end(), '='), std::stoi(m[2]), std::stoi(m[3]));
    EXPECT_EQ(std::stoi(m[4]), 20);
    std::string visible = f.substr(0, f.find("\x1b[K"));
    widest = std::max(widest, visible.size());
    saw_rate |= visible.find("/s") != std::string::npos;
  }
  ASSERT_GE(frames.size(), 5u) << tty;
  EXPECT_LT(widest, 120u) << "a frame wider than the terminal would wrap";
  EXPECT_TRUE(saw_rate) << "no input rate shown";
  std::set<int> percents;
  for (size_t i = 1; i < frames.size(); i++) {
    EXPECT_GE(std::get<0>(frames[i]), std::get<0>(frames[i - 1])) << "the bar went backwards";
    EXPECT_GE(std::get<2>(frames[i]), std::get<2>(frames[i - 1]));
    percents.insert(std::get<1>(frames[i]));
  }
  EXPECT_GE(percents.size(), 3u) << "the bar did not advance in steps:\n" << tty;
  EXPECT_LT(std::get<2>(frames.front()), 20);
  EXPECT_EQ(std::get<1>(frames.back()), 100);
  EXPECT_GT(std::get<0>(frames.back()), std::get<0>(frames.front()));
  EXPECT_NE(tty.find("job 1 succeeded"), std::string::npos);

  // In a pipe: plain lines, no carriage returns or escapes.
  CommandResult piped = RunCommand([&] {
    std::vector<std::string> a = {"/usr/bin/env", "MR_FAILPOINTS=map.after_read=delay(200ms)", MrBinary()};
    auto rest = RunArgs(input, tmp_ / "out-pipe");
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
  }());
  ASSERT_EQ(piped.exit_code, 0) << piped.out << piped.err;
  EXPECT_EQ(piped.out.find('\r'), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find('\x1b'), std::string::npos) << piped.out;
  std::regex line_re(R"(^\[\s*[0-9.ms]+\] (running|succeeded)\s+(\d+)%\s+map (\d+)/20\s+reduce \d+/1)");
  int lines = 0, last_done = -1;
  std::istringstream in(piped.out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, line_re)) continue;
    lines++;
    EXPECT_GE(std::stoi(m[3]), last_done);
    last_done = std::stoi(m[3]);
  }
  EXPECT_GE(lines, 2) << piped.out;
  EXPECT_EQ(last_done, 20) << piped.out;
  EXPECT_LE(lines, 30) << "one line per change at most once a second, not one per poll:\n" << piped.out;
}


// ---------------------------------------------------------------- history, logs, worker names

// `mr ARGS... --master ADDR`, which must succeed.
std::string MrOk(const Cluster& cluster, std::vector<std::string> args) {
  args.insert(args.end(), {"--master", cluster.master_address()});
  CommandResult r = RunMr(args);
  EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.out << r.err;
  return r.out;
}

// The tasks of /api/jobs/ID with the fields that must survive a master restart.
json TasksOf(const std::string& http, uint64_t id) { return GetJson(http, fmt::format("/api/jobs/{}", id))["tasks"]; }

TEST_F(ObservabilityTest, HistoryAndLogsSurviveAMasterRestartAndTheRetentionDropsTheOldest) {
  std::string input = tmp_ / "in.txt";
  WriteFile(input, Text(64, 7));
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster({"--history-jobs", "2", "--allow-user-code"}).ok());
  // alpha fails its first map attempt once; the other worker is named by its address.
  ASSERT_TRUE(cluster.StartWorker({"--name", "alpha", "--slots", "2"}, {"MR_FAILPOINTS=map.start=1*error"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(1).ok());
  ASSERT_TRUE(cluster.StartWorker({"--slots", "2"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());

  json workers = json::parse(MrOk(cluster, {"workers", "--json"}));
  ASSERT_EQ(workers.size(), 2u);
  std::string other;
  for (const json& w : workers) {
    EXPECT_FALSE(w["host"].get<std::string>().empty()) << w.dump();
    EXPECT_GT(w["pid"].get<int>(), 0) << w.dump();
    if (w["id"] != "alpha") other = w["id"];
  }
  EXPECT_EQ(other, workers[0]["id"] == "alpha" ? workers[1]["shuffle_address"] : workers[0]["shuffle_address"]);

  MrOk(cluster, {"submit", "--mapper", "echo from-the-mapper >&2; cat", "--input", input, "--output",
                 tmp_ / "out1", "--split-size", "16k", "--reducers", "2", "--wait"});
  json before = TasksOf(cluster.http_address(), 1);
  ASSERT_EQ(before.size(), 6u) << before.dump();
  std::set<std::string> seen;
  int failed = 0;
  for (const json& t : before) {
    for (const json& a : t["history"]) {
      seen.insert(a["worker"]);
      if (a["outcome"] == "failed") {
        failed++;
        EXPECT_EQ(a["worker"], "alpha");
      }
      if (a["outcome"] == "succeeded") {
        EXPECT_GT(a["records_in"].get<int64_t>(), 0) << a.dump();
      }
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_TRUE(seen.contains("alpha") && seen.contains(other)) << before.dump();
  json job = GetJson(cluster.http_address(), "/api/jobs/1");
  EXPECT_EQ(job["phases"]["map"]["tasks_done"], 4) << job["phases"].dump();
  // The output is its owner's: shown with a token (here the master's own, as the admin), not without.
  EXPECT_FALSE(job.contains("output_preview")) << job.dump();
  EXPECT_NE(job.value("output_preview_hidden", "").find("owner (admin)"), std::string::npos) << job.dump();
  auto token = FindLocalToken(static_cast<uint16_t>(std::stoi(cluster.master_address().substr(10))));
  ASSERT_TRUE(token.has_value());
  job = GetJson(cluster.http_address(), "/api/jobs/1", TokenText(*token));
  ASSERT_EQ(job["output_preview"]["lines"].size(), 10u) << job["output_preview"].dump();

  std::string logs = MrOk(cluster, {"logs", "1", "--task", "map/0"});
  EXPECT_NE(logs.find("from-the-mapper"), std::string::npos) << logs;
  EXPECT_NE(logs.find("job-1/m0/a"), std::string::npos) << logs;
  std::string all_logs = MrOk(cluster, {"logs", "1"});
  EXPECT_NE(all_logs.find("failed after"), std::string::npos) << "the failed attempt's log: " << all_logs;
  EXPECT_NE(all_logs.find("map.start"), std::string::npos) << "the failed attempt's error: " << all_logs;

  cluster.KillMaster();
  ASSERT_TRUE(cluster.RestartMaster().ok());
  EXPECT_EQ(TasksOf(cluster.http_address(), 1), before) << "the tasks changed across the restart";
  EXPECT_EQ(MrOk(cluster, {"logs", "1", "--task", "map/0"}), logs);

  // Two more jobs: with --history-jobs 2 the first is forgotten, journal and all.
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  for (int j = 2; j <= 3; j++) {
    MrOk(cluster, {"submit", "--job", "wordcount", "--input", input, "--output", tmp_ / fmt::format("out{}", j),
                   "--wait"});
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Http(cluster.http_address(), "/api/jobs/1").status != 404 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_EQ(Http(cluster.http_address(), "/api/jobs/1").status, 404);
  EXPECT_EQ(GetJson(cluster.http_address(), "/api/jobs")["jobs"].size(), 2u);
  cluster.KillMaster();
  ASSERT_TRUE(cluster.RestartMaster().ok());
  EXPECT_EQ(Http(cluster.http_address(), "/api/jobs/1").status, 404) << "the forgotten job came back";
  EXPECT_EQ(TasksOf(cluster.http_address(), 3).size(), 2u);

  // A lost worker is listed with --all, under the same name.
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  cluster.SignalWorker(0, SIGKILL);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  json all;
  while (std::chrono::steady_clock::now() < deadline) {
    all = json::parse(MrOk(cluster, {"workers", "--all", "--json"}));
    if (all.size() == 2 && all[1]["lost"] == true) break;
    std::this_thread::sleep_for(Millis(50));
  }
  ASSERT_EQ(all.size(), 2u) << all.dump();
  EXPECT_EQ(all[1]["id"], "alpha");
  EXPECT_EQ(all[1]["lost"], true);
  EXPECT_EQ(json::parse(MrOk(cluster, {"workers", "--json"})).size(), 1u);
}


// The dashboard in a real browser, after a job with a failed attempt and a straggler: the DOM
// Chromium renders (scripts run) shows the tasks, the failure, the straggler and the output.
TEST_F(ObservabilityTest, DashboardRendersTasksFailureAndStragglerInHeadlessChromium) {
  if (RunCommand({"/bin/sh", "-c", "command -v chromium"}).exit_code != 0) GTEST_SKIP() << "chromium is not installed";
  std::string input = tmp_ / "in";
  fs::create_directories(input);
  for (int i = 0; i < 4; i++) WriteFile(fmt::format("{}/part-{}.txt", input, i), Text(16, i));
  Cluster cluster(tmp_.path());
  ASSERT_TRUE(cluster.StartMaster().ok());
  // Four maps, one slot each: the slow worker's map is a straggler, the other's first map fails.
  ASSERT_TRUE(cluster.StartWorker({"--name", "fast", "--slots", "1"}, {"MR_FAILPOINTS=map.start=1*error"}).ok());
  ASSERT_TRUE(cluster.StartWorker({"--name", "slow", "--slots", "1"}, {"MR_FAILPOINTS=map.after_read=1*delay(2500ms)"}).ok());
  ASSERT_TRUE(cluster.WaitForWorkers(2).ok());
  // Each 16 KiB file a split of its own (smaller files would be packed into one split).
  MrOk(cluster, {"submit", "--job", "wordcount", "--input", input, "--output", tmp_ / "out", "--reducers", "1",
                 "--split-size", "16k", "--wait"});
  json job = GetJson(cluster.http_address(), "/api/jobs/1");
  ASSERT_EQ(job["state"], "succeeded");
  ASSERT_EQ(job["phases"]["map"]["stragglers"].size(), 1u) << job["phases"].dump();

  std::string profile = tmp_ / "chrome";
  CommandResult dom = RunCommand({"/usr/bin/env", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                  "--disable-sync", "--user-data-dir=" + profile, "--window-size=1400,1000",
                                  "--virtual-time-budget=3000", "--dump-dom",
                                  "http://" + cluster.http_address() + "/#job=1"},
                                 std::chrono::seconds(90));
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  for (const char* want : {"Job 1 · wordcount", "succeeded", "Phases", "Timeline", "<svg", "map 0", "map 3",
                           "reduce 0", "Failed attempts", "failpoint map.start", ">fast<", ">slow<", "straggler m",
                           "first lines", "heartbeat"}) {
    EXPECT_NE(dom.out.find(want), std::string::npos) << "the rendered page lacks '" << want << "'";
  }
}

}  // namespace
}  // namespace mr::testing
