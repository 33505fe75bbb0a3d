// deploy/ checked offline: the command lines of the systemd units (expanded with their shipped
// environment files, as the multihost tests expand them) use only flags mr knows; the units pass
// `systemd-analyze verify`; the Kubernetes manifests parse and agree with the units
// (scripts/check_deploy.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>

#include "tests/multihost/deploy_units.h"
#include "tests/test_util.h"

namespace mr::multihost {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Shipped(const std::string& unit, const std::string& env_file) {
  auto exec = ReadExecStart(DeployDir() + "/systemd/" + unit);
  EXPECT_TRUE(exec.ok()) << exec.status().ToString();
  auto vars = ReadEnvironmentFile(DeployDir() + "/systemd/" + env_file);
  EXPECT_TRUE(vars.ok()) << vars.status().ToString();
  if (!exec.ok() || !vars.ok()) return {};
  auto argv = ExpandExecStart(*exec, *vars, {{'d', "/run/credentials/x"}, {'S', "/var/lib"}});
  EXPECT_TRUE(argv.ok()) << argv.status().ToString();
  return argv.ok() ? *argv : std::vector<std::string>{};
}

TEST(DeployUnits, ExpandsLikeSystemd) {
  auto argv = ExpandExecStart("/usr/bin/mr worker --token-file %d/token --listen ${L} --x=${A}:1 $OPTS --p 100%%",
                              {{"L", "0.0.0.0:7072"}, {"A", "h"}, {"OPTS", " --slots 4  --threads 2 "}},
                              {{'d', "/cred"}});
  ASSERT_TRUE(argv.ok()) << argv.status().ToString();
  EXPECT_EQ(*argv, (std::vector<std::string>{"/usr/bin/mr", "worker", "--token-file", "/cred/token", "--listen",
                                             "0.0.0.0:7072", "--x=h:1", "--slots", "4", "--threads", "2", "--p",
                                             "100%"}));
  EXPECT_FALSE(ExpandExecStart("/usr/bin/mr ${UNSET}", {}, {}).ok());
  auto empty = ExpandExecStart("/usr/bin/mr $EMPTY", {{"EMPTY", ""}}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 1u);
}

TEST(DeployUnits, ShippedCommandLinesUseOnlyFlagsMrKnows) {
  for (auto [unit, env, command] : {std::tuple{"mr-master.service", "master.env", "master"},
                                    std::tuple{"mr-worker.service", "worker.env", "worker"}}) {
    std::vector<std::string> argv = Shipped(unit, env);
    ASSERT_GE(argv.size(), 2u) << unit;
    EXPECT_EQ(argv[0], "/usr/bin/mr") << unit;
    EXPECT_EQ(argv[1], command) << unit;
    testing::CommandResult help = testing::RunMr({command, "--help"});
    ASSERT_EQ(help.exit_code, 0) << help.err;
    for (auto& flag : Flags(argv)) {
      EXPECT_NE(help.out.find(flag + " "), std::string::npos)
          << unit << " passes " << flag << ", which `mr " << command << " --help` does not list";
    }
  }
  // What the multihost tests and every deployment depend on.
  std::vector<std::string> worker = Flags(Shipped("mr-worker.service", "worker.env"));
  for (const char* f : {"--master", "--listen", "--advertise", "--data-dir", "--token-file"}) {
    EXPECT_NE(std::find(worker.begin(), worker.end(), f), worker.end()) << "mr-worker.service lacks " << f;
  }
}

TEST(DeployUnits, SystemdAnalyzeVerify) {
  std::string analyze;
  for (const char* p : {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"}) {
    if (fs::exists(p)) analyze = p;
  }
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed (apt-get install systemd)";
  // verify checks that ExecStart's binary exists: point the copies at the mr under test.
  TempDir tmp;
  std::vector<std::string> argv = {analyze, "verify", "--man=no"};
  for (const char* unit : {"mr-master.service", "mr-worker.service"}) {
    std::string text = testing::ReadFile(DeployDir() + "/systemd/" + unit);
    size_t at = text.find("/usr/bin/mr ");
    ASSERT_NE(at, std::string::npos) << unit;
    text.replace(at, 11, fs::absolute(testing::MrBinary()).string());
    testing::WriteFile(tmp / unit, text);
    argv.push_back(tmp / unit);
  }
  testing::CommandResult r = testing::RunCommand(argv, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Unknown keys and bad values are warnings with exit code 0: none are allowed either.
  EXPECT_EQ(r.err.find(".service"), std::string::npos) << r.err;
}

TEST(DeployManifests, ParseAndAgreeWithTheUnits) {
  testing::CommandResult r = testing::RunCommand(
      {"/usr/bin/env", "python3", testing::SourceDir() + "/scripts/check_deploy.py", "--mr", testing::MrBinary()},
      std::chrono::seconds(60));
  if (r.exit_code == 77) GTEST_SKIP() << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace mr::multihost
