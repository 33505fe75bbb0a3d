// terasort (DESIGN §4): Hadoop TeraSort. Input: 100-byte records (input format records:100) whose
// first 10 bytes are the key, compared as unsigned bytes. At submit time the master runs Plan,
// which samples keys from evenly spaced splits and picks R-1 cut points; they reach every task as
// the argument `_cuts` (hex keys, comma-separated). The partitioner sends a key to the number of
// cut points <= it, so all records of one key meet in one reducer and part-r-00000, part-r-00001,
// ... concatenated are globally sorted. Records are written unchanged (RawOutput), with no
// separators. Records with equal keys keep their input order (files in path order, then offset).
// Pure functions and immutable objects; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "jobs/job.h"

namespace mr {

constexpr size_t kTeraRecordBytes = 100;
constexpr size_t kTeraKeyBytes = 10;

Result<std::unique_ptr<Job>> MakeTeraSort(const JobArgs& args);

// R-1 (or fewer) strictly increasing cut points from `sample` (any order): each reducer gets an
// even share of the sample, except that equal keys are never split across reducers, so with
// skewed keys some cut points are dropped (those reducers get nothing). Empty for reducers <= 1
// or an empty sample.
std::vector<std::string> PickCutPoints(std::vector<std::string> sample, uint32_t reducers);
// Up to `max_keys` keys sampled from evenly spaced splits (Hadoop's TeraInputFormat: at most 10
// splits), each read as evenly spaced runs of records. IoError naming a file that cannot be read.
Result<std::vector<std::string>> SampleKeys(const std::vector<InputSplitInfo>& splits, size_t max_keys);

std::string EncodeCutPoints(const std::vector<std::string>& cuts);
Result<std::vector<std::string>> DecodeCutPoints(std::string_view text);

// Binary search over the cut points, comparing the first 8 bytes as one integer first.
class TotalOrderPartitioner : public Partitioner {
 public:
  explicit TotalOrderPartitioner(const std::vector<std::string>& cuts);
  uint32_t Partition(std::string_view key, uint32_t reducers) const override;

 private:
  struct Cut {
    uint64_t prefix;  // the first 8 bytes, big-endian, zero-padded
    std::string key;
  };
  std::vector<Cut> cuts_;
};

}  // namespace mr
