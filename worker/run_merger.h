// RunMerger: a k-way merge of sorted record-run files (worker/run_file.h) with a loser tree: one
// comparison per tree level for each record (a binary heap does about two). Records with equal
// keys come out in the order the runs were added (runs are added in map order, so a key's values
// keep the order of the map tasks). Memory: one read buffer per run.
// Not thread-safe.
#pragma once

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

}  // namespace mr
