// RunMerger: a k-way merge of sorted record-run files (worker/run_file.h) with a loser tree: one
// comparison per tree level for each record (a binary heap does about two). Records with equal
// keys come out in the order the runs were added (runs are added in map order, so a key's values
// keep the order of the map tasks). Memory: one read buffer per run; one open file per run added
// with Add().
// MergeToFactor bounds those open files: it merges runs into intermediate runs until few enough
// remain for one final RunMerger (Hadoop's io.sort.factor).
// Not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/run_file.h"

namespace mr {

class RunMerger {
 public:
  // REQUIRES: before the first top_key()/Pop().
  Status Add(const std::string& path, size_t buffer_bytes);
  // A run read from a stream of chunks (RunFileReader::OpenSource).
  Status AddSource(const std::string& name, RunFileReader::ChunkSource source);
  bool empty();
  std::string_view top_key();
  std::string_view top_value();
  // Moves past the smallest record.
  Status Pop();

 private:
  struct Cursor {
    RunFileReader reader;
    std::string_view key, value;
    bool done = false;
  };
  Status Start(std::unique_ptr<Cursor> c);
  bool Less(int a, int b) const;
  void Build();
  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<int> losers_;  // internal nodes 1..k-1; leaves are k..2k-1
  int winner_ = -1;
  bool built_ = false;
};

struct MergePassOptions {
  int factor = 64;             // at most this many runs are open at once (>= 2)
  std::string dir;             // where the intermediate runs go
  uint64_t buffer_bytes = 64ull << 20;  // read buffers of one pass, shared by its runs
  const std::atomic<bool>* cancel = nullptr;
  Codec codec = Codec::kLz4;   // of the intermediate runs' blocks
};

struct MergePassStats {
  int passes = 0;              // intermediate merges done
  uint64_t bytes = 0;          // bytes they wrote
};

// Reduces `runs` (paths, in run order) to at most `factor` runs, which a RunMerger then merges in
// one final pass with the same records in the same order as a merge of all of `runs`: each
// intermediate merge takes consecutive runs (so ties keep their run order) and replaces them by one
// run in their place. Only as many runs are merged as needed to bring the count down to `factor`,
// so data is rewritten as little as possible (most of it once when there are up to factor² runs).
// Runs that were merged are deleted. Returns the runs for the final pass.
Result<std::vector<std::string>> MergeToFactor(std::vector<std::string> runs, const MergePassOptions& options,
                                               MergePassStats* stats = nullptr);

}  // namespace mr
