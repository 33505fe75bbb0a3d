// Who may do what (DESIGN §6, §11; issue 20), on real processes: another local user gets nothing
// from `mr run` or a tokenless master (no submission, no output over HTTP); a user's token is a
// client and never a worker or a shuffle fetch; jobs belong to their owners; a child never sees a
// token; --overwrite never replaces a data dir; paths outside --allow-input/--allow-output are
// refused; a restarted master without --allow-user-code fails the user-code jobs it journaled;
// HTTP off loopback needs a token, checks Host, and speaks HTTPS when given a certificate.
// Each of these failed before (the note of the change says how each was seen to fail).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <fmt/format.h>
#include <thread>

#include "common/credentials.h"
#include "common/frame.h"
#include "common/handshake.h"
#include "common/process.h"
#include "common/raw_socket_testing.h"
#include "common/tls_testing.h"
#include "tests/test_util.h"

namespace mr::testing {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A token file of the test's, as the README makes them.
std::string WriteToken(const TempDir& dir, const std::string& name, const Token& t) {
  std::string path = dir / name;
  WriteFile(path, TokenText(t) + "\n");
  ::chmod(path.c_str(), 0600);
  return path;
}

uint16_t PortOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// Runs argv as the unprivileged user nobody, with nobody's own minimal environment.
CommandResult AsNobody(const std::vector<std::string>& argv, Millis timeout = Millis(20000)) {
  std::vector<std::string> cmd = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "--reset-env"};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return RunCommand(cmd, timeout);
}

std::string WhyNoOtherUser() {
  if (::geteuid() != 0) return "needs root, to run commands as the user nobody";
  if (!fs::exists("/usr/bin/setpriv")) return "needs setpriv (util-linux)";
  if (::access(MrBinary().c_str(), X_OK) != 0) return "the mr binary is not executable by everyone";
  return "";
}


// While `mr run` runs as root, nobody finds its master and tries to run code through it and read
// its output: both are refused (before, the job ran as root and /tmp/pwned said uid=0).
TEST(AccessTest, AnotherLocalUserCannotUseMrRunNorReadItsOutput) {
  if (std::string why = WhyNoOtherUser(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);  // nobody may read the input: only the credential stops it
  WriteFile(dir / "in.txt", "zebrasecret other zebrasecret\n");
  ::chmod((dir / "in.txt").c_str(), 0644);
  auto pid = Spawn({MrBinary(), "run", "--job", "wordcount", "--input", dir / "in.txt", "--output", dir / "out",
                    "--workers", "1", "--keep-dashboard"},
                   dir / "run.log", {"TMPDIR=" + dir.path()});
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  ASSERT_TRUE(WaitForText(dir / "run.log", "until Ctrl-C", 1, std::chrono::seconds(60))) << ReadFile(dir / "run.log");
  std::string rpc, http;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (!e.path().filename().string().starts_with("mr-run-")) continue;
    std::string address = ReadFile(e.path() / "master" / "ADDRESS");
    std::istringstream in(address);
    std::string word;
    in >> word >> rpc >> word >> http;
  }
  ASSERT_FALSE(rpc.empty());
  const std::string pwned = fmt::format("/tmp/mr-pwned-{}", ::getpid());
  CommandResult submit = AsNobody({MrBinary(), "submit", "--master", rpc, "--mapper", "id > " + pwned + "; cat",
                                   "--input", dir / "in.txt", "--output", "/tmp/mr-pwned-out", "--wait"});
  EXPECT_EQ(submit.exit_code, 1) << submit.out << submit.err;
  EXPECT_TRUE(Contains(submit.err, "authentication failed")) << submit.err;
  EXPECT_FALSE(fs::exists(pwned));
  CommandResult api = AsNobody({"/usr/bin/curl", "-sS", "http://" + http + "/api/jobs/1"});
  EXPECT_EQ(api.exit_code, 0) << api.err;
  EXPECT_TRUE(Contains(api.out, "output_preview_hidden")) << api.out;
  EXPECT_FALSE(Contains(api.out, "zebrasecret")) << api.out;
  // The user who started it sees the output, with the token mr run printed in the address.
  std::string log = ReadFile(dir / "run.log");
  auto at = log.find("#token=");
  ASSERT_NE(at, std::string::npos) << log;
  std::string token = log.substr(at + 7, log.find(' ', at) - at - 7);
  CommandResult own = RunCommand({"/usr/bin/curl", "-sS", "-H", "Authorization: Bearer " + token,
                                  "http://" + http + "/api/jobs/1"});
  EXPECT_TRUE(Contains(own.out, "zebrasecret")) << own.out;
  ::kill(*pid, SIGINT);  // Ctrl-C: mr run stops its cluster
  EXPECT_TRUE(WaitFor(*pid, Millis(20000)).ok());
  std::error_code ec;
  fs::remove(pwned, ec);
}

TEST(AccessTest, AnotherLocalUserCannotUseATokenlessMaster) {
  if (std::string why = WhyNoOtherUser(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--allow-user-code"}).ok());
  CommandResult jobs = AsNobody({MrBinary(), "jobs", "--master", c.master_address()});
  EXPECT_EQ(jobs.exit_code, 1) << jobs.out << jobs.err;
  EXPECT_TRUE(Contains(jobs.err, "authentication failed")) << jobs.err;
  EXPECT_TRUE(Contains(jobs.err, "a master started by another user")) << jobs.err;
  CommandResult worker = AsNobody({MrBinary(), "worker", "--master", c.master_address(), "--data-dir",
                                   "/tmp/mr-nobody-worker-" + std::to_string(::getpid())});
  EXPECT_EQ(worker.exit_code, 2) << worker.err;
  EXPECT_TRUE(Contains(worker.err, "no cluster token")) << worker.err;
  std::error_code ec;
  fs::remove_all("/tmp/mr-nobody-worker-" + std::to_string(::getpid()), ec);
  // Its owner gets in without giving a token: the master left it for them.
  CommandResult own = RunMr({"jobs", "--master", c.master_address()});
  EXPECT_EQ(own.exit_code, 0) << own.err;
}

// A user's token submits as that user and can do no more: no worker registration, no shuffle
// fetch, no killing or reading the logs of another user's job; the cluster token is the admin.
TEST(AccessTest, UserTokensAreClientsThatOwnTheirJobs) {
  TempDir dir;
  Token cluster = *NewToken(""), alice = *NewToken("alice"), bob = *NewToken("bob");
  std::string cluster_file = WriteToken(dir, "cluster.token", cluster);
  std::string alice_file = WriteToken(dir, "alice.token", alice);
  std::string bob_file = WriteToken(dir, "bob.token", bob);
  WriteFile(dir / "users", UsersFileLine(alice) + "\n" + UsersFileLine(bob) + "\n");
  ::chmod((dir / "users").c_str(), 0600);
  std::string text;
  for (int i = 0; i < 3000; i++) text += fmt::format("w{} x y\n", i % 13);
  WriteFile(dir / "in.txt", text);
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--token-file", cluster_file, "--users", dir / "users"}).ok());
  ASSERT_TRUE(c.StartWorker({"--token-file", cluster_file}).ok());
  ::setenv("MR_TOKEN", TokenText(cluster).c_str(), 1);  // the harness's own commands
  ASSERT_TRUE(c.WaitForWorkers(1).ok());

  // A worker with a user's token is refused by mr itself, and a raw hello as a worker by the master.
  CommandResult w = RunMr({"worker", "--master", c.master_address(), "--data-dir", dir / "w-alice", "--token-file",
                           alice_file});
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_TRUE(Contains(w.err, "a worker needs the cluster token")) << w.err;
  RawTls raw(RawConnect(c.master_address(), Millis(5000)), TokenText(alice));
  ASSERT_TRUE(raw.ok()) << raw.error();
  raw.Send(EncodeFrame(MakeHello(proto::ROLE_WORKER)));
  auto reply = raw.ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_FALSE(reply->hello_reply().ok());
  EXPECT_TRUE(Contains(reply->hello_reply().error(), "needs the cluster credential")) << reply->hello_reply().error();

  // Alice's job is alice's.
  CommandResult sub = RunMr({"submit", "--master", c.master_address(), "--token-file", alice_file, "--job",
                             "wordcount", "--input", dir / "in.txt", "--output", dir / "out", "--quiet"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  JobState js = c.Job(1);
  EXPECT_TRUE(Contains(js.json, "\"owner\": \"alice\"")) << js.json;
  CommandResult jobs = RunMr({"jobs", "--master", c.master_address(), "--token-file", bob_file});
  EXPECT_TRUE(Contains(jobs.out, "alice")) << jobs.out;

  // The shuffle server holding its map output: bob's token gets no TLS session; the cluster token
  // without the job's shuffle secret gets no data.
  ASSERT_TRUE(c.WaitForJob(1, Millis(60000)).state == "succeeded");
  std::string shuffle;
  {
    std::string log = ReadFile(dir / "worker-0.log");
    auto at = log.find("shuffle server on ");
    ASSERT_NE(at, std::string::npos);
    shuffle = log.substr(at + 18, log.find_first_of(";\n", at + 18) - at - 18);
  }
  RawTls as_bob(RawConnect(shuffle, Millis(5000)), TokenText(bob));
  EXPECT_FALSE(as_bob.ok());

  // Job 2 must still be running when it is killed, however slow this machine: its only worker is
  // stopped until then.
  c.SignalWorker(0, SIGSTOP);
  CommandResult kill_other = RunMr({"submit", "--master", c.master_address(), "--token-file", alice_file, "--job",
                                    "wordcount", "--input", dir / "in.txt", "--output", dir / "out2", "--quiet"});
  ASSERT_EQ(kill_other.exit_code, 0);
  CommandResult bob_kills = RunMr({"kill", "2", "--master", c.master_address(), "--token-file", bob_file});
  EXPECT_EQ(bob_kills.exit_code, 1);
  EXPECT_TRUE(Contains(bob_kills.err, "job 2 belongs to alice")) << bob_kills.err;
  CommandResult bob_logs = RunMr({"logs", "1", "--master", c.master_address(), "--token-file", bob_file});
  EXPECT_EQ(bob_logs.exit_code, 1);
  EXPECT_TRUE(Contains(bob_logs.err, "belongs to alice")) << bob_logs.err;
  CommandResult admin_kills = RunMr({"kill", "2", "--master", c.master_address(), "--token-file", cluster_file});
  EXPECT_EQ(admin_kills.exit_code, 0) << admin_kills.err;
  EXPECT_EQ(c.Job(2).state, "killed");
  // The killed job leaves its output path as it found it: the same output is accepted again.
  EXPECT_FALSE(fs::exists(dir / "out2"));
  CommandResult again = RunMr({"submit", "--master", c.master_address(), "--token-file", alice_file, "--job",
                               "wordcount", "--input", dir / "in.txt", "--output", dir / "out2", "--quiet"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  c.SignalWorker(0, SIGCONT);
  EXPECT_TRUE(Contains(ReadFile(dir / "master.log"), "(bob) may not kill it (owner alice)"));
  ::unsetenv("MR_TOKEN");
}

// A mapper that prints its environment sees no token, however the worker got it.
TEST(AccessTest, AMapperSeesNoToken) {
  TempDir dir;
  Token cluster = *NewToken("");
  WriteFile(dir / "in.txt", "one line\n");
  Cluster c(dir.path());
  const std::string env = "MR_TOKEN=" + TokenText(cluster);
  ASSERT_TRUE(c.StartMaster({"--allow-user-code"}, {env}).ok());
  ASSERT_TRUE(c.StartWorker({}, {env}).ok());
  ::setenv("MR_TOKEN", TokenText(cluster).c_str(), 1);
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--mapper", "env", "--input", dir / "in.txt",
                           "--output", dir / "out", "--wait", "--show", "0"});
  ::unsetenv("MR_TOKEN");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string out = ReadJobOutput(dir / "out", 1);
  EXPECT_TRUE(Contains(out, "PATH=")) << out;  // the environment is there
  EXPECT_FALSE(Contains(out, "MR_TOKEN")) << out;
  EXPECT_FALSE(Contains(out, cluster.secret)) << out;
}

// --overwrite of a directory that holds a data dir is refused; the journal and the master survive.
TEST(AccessTest, OverwriteNeverReplacesADataDir) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  Cluster c(dir.path());  // the master's data dir is dir/master
  ASSERT_TRUE(c.StartMaster().ok());
  ASSERT_TRUE(c.StartWorker().ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  fs::create_directories(dir / "outer");
  for (const std::string& out : {dir.path(), dir / "master", dir / "master/journal"}) {
    CommandResult r = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input",
                             dir / "in.txt", "--output", out, "--overwrite"});
    EXPECT_EQ(r.exit_code, 1) << out << ": " << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "not an mr output") || Contains(r.err, "the master's data directory")) << r.err;
  }
  CommandResult inside = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input",
                                dir / "in.txt", "--output", dir / "master/new"});
  EXPECT_EQ(inside.exit_code, 1);
  EXPECT_TRUE(Contains(inside.err, "would be inside the master's data directory")) << inside.err;
  EXPECT_TRUE(fs::exists(dir / "master/journal"));
  // A job's own output is replaced as before.
  CommandResult first = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input",
                               dir / "in.txt", "--output", dir / "outer/out", "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  CommandResult again = RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input",
                               dir / "in.txt", "--output", dir / "outer/out", "--overwrite", "--wait"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  c.KillMaster();
  ASSERT_TRUE(c.RestartMaster().ok());
  EXPECT_EQ(c.Job(2).state, "succeeded");
}

TEST(AccessTest, PathsOutsideTheAllowedDirectoriesAreRefused) {
  TempDir dir;
  fs::create_directories(dir / "in");
  fs::create_directories(dir / "out");
  WriteFile(dir / "in/a.txt", "a b\n");
  WriteFile(dir / "secret.txt", "s\n");
  fs::create_symlink(dir / "secret.txt", dir / "in/link.txt");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--allow-input", dir / "in", "--allow-output", dir / "out"}).ok());
  ASSERT_TRUE(c.StartWorker().ok());
  ASSERT_TRUE(c.WaitForWorkers(1).ok());
  auto submit = [&](const std::string& in, const std::string& out) {
    return RunMr({"submit", "--master", c.master_address(), "--job", "wordcount", "--input", in, "--output", out});
  };
  CommandResult outside = submit(dir / "secret.txt", dir / "out/1");
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_TRUE(Contains(outside.err, "outside the directories this master lets jobs read")) << outside.err;
  CommandResult link = submit(dir / "in/link.txt", dir / "out/2");
  EXPECT_EQ(link.exit_code, 1);
  EXPECT_TRUE(Contains(link.err, "outside")) << link.err;
  CommandResult out = submit(dir / "in/a.txt", dir / "elsewhere");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_TRUE(Contains(out.err, "--allow-output")) << out.err;
  CommandResult ok = submit(dir / "in/a.txt", dir / "out/3");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// A master restarted without --allow-user-code does not resume the streaming job it journaled: it
// fails it with the reason.
TEST(AccessTest, ARestartedMasterWithoutAllowUserCodeFailsJournaledUserCodeJobs) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--allow-user-code"}).ok());
  CommandResult r = RunMr({"submit", "--master", c.master_address(), "--mapper", "cat", "--input", dir / "in.txt",
                           "--output", dir / "out", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(c.Job(1).state, "queued");  // no worker
  c.KillMaster();
  ASSERT_TRUE(c.StartMaster().ok());  // the same data dir, without --allow-user-code
  JobState js = c.Job(1);
  EXPECT_EQ(js.state, "failed") << js.json;
  EXPECT_TRUE(Contains(js.error, "restarted without --allow-user-code")) << js.error;
}

// Bound off loopback, the HTTP API needs a token (but /healthz, /readyz); over HTTPS when given a
// certificate. On loopback, a Host that names something else is refused without a token.
TEST(AccessTest, HttpOffLoopbackNeedsATokenAndSpeaksHttps) {
  TempDir dir;
  Token cluster = *NewToken("");
  std::string cluster_file = WriteToken(dir, "cluster.token", cluster);
  TestPki pki(dir.path(), "web-ca");
  TestCert cert = pki.Issue("master-web");
  Cluster c(dir.path());
  ASSERT_TRUE(c.StartMaster({"--token-file", cluster_file, "--http", "0.0.0.0:0", "--http-cert", cert.cert,
                             "--http-key", cert.key})
                  .ok());
  const std::string base = "https://127.0.0.1:" + std::to_string(PortOf(c.http_address()));
  auto curl = [&](const std::string& path, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--cacert", pki.ca_file(), "-o", "/dev/null", "-w",
                                     "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(base + path);
    return RunCommand(argv).out;
  };
  EXPECT_EQ(curl("/healthz"), "200");
  EXPECT_EQ(curl("/readyz"), "200");
  EXPECT_EQ(curl("/api/jobs"), "401");
  EXPECT_EQ(curl("/metrics"), "401");
  EXPECT_EQ(curl("/api/jobs", {"-H", "Authorization: Bearer not-the-token-at-all"}), "401");
  EXPECT_EQ(curl("/api/jobs", {"-H", "Authorization: Bearer " + TokenText(cluster)}), "200");
  EXPECT_EQ(curl("/metrics", {"-H", "Authorization: Bearer " + TokenText(cluster)}), "200");
  // Plain HTTP to the HTTPS port gets nothing.
  CommandResult plain = RunCommand({"/usr/bin/curl", "-sS", "-m", "5", "http://127.0.0.1:" +
                                    std::to_string(PortOf(c.http_address())) + "/api/jobs"});
  EXPECT_FALSE(Contains(plain.out, "\"jobs\""));

  TempDir other;
  Cluster local(other.path());
  ASSERT_TRUE(local.StartMaster().ok());
  auto host = [&](const std::string& h) {
    return RunCommand({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: " + h,
                       "http://" + local.http_address() + "/api/jobs"})
        .out;
  };
  EXPECT_EQ(host("localhost:80"), "200");
  EXPECT_EQ(host("127.0.0.1"), "200");
  EXPECT_EQ(host("attacker.example:8080"), "403");
}

}  // namespace
}  // namespace mr::testing
