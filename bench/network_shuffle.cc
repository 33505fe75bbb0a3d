// network_shuffle: what compressed intermediates buy on a network you can measure (DESIGN §8).
// A cluster on separate hosts (network namespaces, tests/multihost/cluster.h: a master and three
// workers, each worker's data link limited to RATE both ways with tc tbf, or not limited) runs
// shuffle-heavy jobs with each intermediate codec, in turn, REPS times, and prints one markdown
// row per run: wall seconds from submit to the end of `mr wait`, shuffle bytes (as sent) and
// their raw size, and whether the output equals the first codec's byte for byte.
//
//   network_shuffle --rate 200mbit --grep CORPUS --invertedindex DIR --terasort DIR [--reps N]
//                   [--codecs none,lz4,zstd]
//
// Run by bench/network_shuffle.sh, which builds, makes the inputs and sets MR_BIN and
// MR_SOURCE_DIR. Needs root (namespaces); everything it made is removed when it ends.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/multihost/cluster.h"

namespace {

namespace fs = std::filesystem;
using mr::multihost::Cluster;
using mr::multihost::ClusterOptions;
using mr::multihost::Network;

constexpr int kReducers = 3;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "network_shuffle: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {{"--rate", "none"}, {"--reps", "1"}, {"--codecs", "none,lz4,zstd"}};
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  if (argc % 2 == 0) return Fail("usage: network_shuffle --rate RATE|none --grep FILE --invertedindex DIR --terasort DIR");
  std::vector<std::pair<std::string, std::vector<std::string>>> jobs;
  if (flags.contains("--grep")) jobs.push_back({"grep", {"--job", "grep", "--arg", "pattern=.", "--input", flags["--grep"]}});
  if (flags.contains("--invertedindex")) {
    jobs.push_back({"invertedindex", {"--job", "invertedindex", "--input", flags["--invertedindex"]}});
  }
  if (flags.contains("--terasort")) jobs.push_back({"terasort", {"--job", "terasort", "--input", flags["--terasort"]}});
  if (jobs.empty()) return Fail("give at least one of --grep, --invertedindex, --terasort");
  const std::vector<std::string> codecs = Split(flags["--codecs"]);
  const int reps = std::stoi(flags["--reps"]);

  ClusterOptions options;
  options.workers = 3;
  options.worker_timeout = "30s";  // a saturated link must not look like a dead worker
  auto cluster = Cluster::Create(options);
  if (!cluster.ok()) return Fail(cluster.status().ToString());
  Cluster& c = **cluster;
  if (flags["--rate"] != "none") {
    for (int i = 0; i < c.workers(); i++) {
      mr::Status limited = c.net().LimitRate(Cluster::WorkerHost(i), Network::kData, flags["--rate"]);
      if (!limited.ok()) return Fail(limited.ToString());
    }
  }
  if (mr::Status s = c.StartMaster(); !s.ok()) return Fail(s.ToString() + "\n" + c.LogTails());
  if (mr::Status s = c.StartWorkers(); !s.ok()) return Fail(s.ToString() + "\n" + c.LogTails());

  std::printf("| job | data links | codec | run | wall s | shuffle MiB (sent) | shuffle MiB (raw) | same output |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& [name, args] : jobs) {
    const std::string reference = c.root() + "/ref-" + name;
    for (int rep = 1; rep <= reps; rep++) {
      for (const std::string& codec : codecs) {
        const std::string out = c.root() + "/out-" + name;
        std::vector<std::string> submit = args;
        submit.insert(submit.end(), {"--output", out, "--overwrite", "--reducers", std::to_string(kReducers),
                                     "--intermediate-codec", codec});
        auto start = std::chrono::steady_clock::now();
        auto id = c.Submit(submit);
        if (!id.ok()) return Fail(id.status().ToString());
        mr::testing::CommandResult waited = c.Client({"wait", std::to_string(*id)}, std::chrono::minutes(30));
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        mr::testing::JobState js = c.Job(*id);
        if (waited.exit_code != 0 || js.state != "succeeded") {
          return Fail(name + " with " + codec + ": " + js.Summary() + "\n" + waited.err + c.LogTails());
        }
        std::string same = "reference";
        if (!fs::exists(reference)) {
          fs::rename(out, reference);
        } else {
          same = mr::multihost::SameOutput(out, reference, kReducers) ? "yes" : "NO";
        }
        std::printf("| %s | %s | %s | %d | %.2f | %.0f | %.0f | %s |\n", name.c_str(), flags["--rate"].c_str(),
                    codec.c_str(), rep, wall, js.Counter("shuffle.bytes") / 1048576.0,
                    js.Counter("shuffle.raw.bytes") / 1048576.0, same.c_str());
        std::fflush(stdout);
        if (same == "NO") return Fail(name + " with " + codec + ": the output differs from the first codec's");
      }
    }
  }
  return 0;
}
