// Test support for the scheduler's tests: an admitted job over made-up splits, a reduce attempt's
// output written where a worker would write it, and the output work carried out as the master
// does, all in an in-memory filesystem.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/file_system.h"
#include "common/output_layout.h"
#include "master/admission.h"
#include "master/carry_out.h"
#include "master/output_committer.h"
#include "master/scheduler.h"

namespace mr::testing {

// A wordcount job writing /out: `maps` splits of one 10001-byte file (4096-byte splits).
inline AdmittedJob TestJob(uint32_t reducers, uint32_t maps = 3) {
  AdmittedJob j;
  j.spec.set_job("wordcount");
  j.spec.add_inputs("/in");
  j.spec.set_output("/out");
  j.spec.set_reducers(reducers);
  j.spec.set_split_size(4096);
  for (uint32_t i = 0; i < maps; i++) {
    proto::InputSplit* s = j.plan.add_splits();
    s->set_path("/in/a.txt");
    s->set_offset(uint64_t{i} * 4096);
    s->set_length(i + 1 < maps ? 4096 : 10001 - uint64_t{i} * 4096);
  }
  j.input_bytes = 10001;
  j.input_files = 1;
  return j;
}

// Whether the attempt writes a part of the output: a reduce, or a map of a map-only job.
inline bool WritesPart(const proto::AssignTask& a) { return a.kind() == proto::TASK_REDUCE || a.reducers() == 0; }

// Writes a reduce attempt's file (a map-only job's map's) as a worker would; returns its path for
// the report.
inline std::string WriteAttemptOutput(InMemoryFileSystem* fs, const proto::AssignTask& a, const std::string& text) {
  const PartKind kind = a.kind() == proto::TASK_MAP ? PartKind::kMap : PartKind::kReduce;
  std::string path = AttemptOutputFile(a.output_dir(), a.job_id(), a.index(), a.attempt(), kind);
  (void)fs->CreateDirs(std::filesystem::path(path).parent_path().string());
  (void)fs->WriteFile(path, text);
  return path;
}

// Carries out the output work in *fx (setups, commits, cleanups) on `fs` as the master does, telling the
// scheduler each result.
inline void Settle(Scheduler& s, FileSystem* fs, int64_t now_ms, Effects* fx) {
  OutputCommitter committer(fs);
  CarryOutOutputWork(s, committer, now_ms, fx);
}

// A scheduler on an in-memory filesystem, driven as the master drives it.
class SchedulerFixture : public ::testing::Test {
 protected:
  // The report of an assignment's end; a successful reduce (map-only map) writes `output` where a
  // worker would.
  proto::TaskReport EndOf(const proto::AssignTask& a, bool ok, const std::string& error, const std::string& output) {
    proto::TaskReport r;
    r.set_job_id(a.job_id());
    r.set_kind(a.kind());
    r.set_index(a.index());
    r.set_attempt(a.attempt());
    r.set_ok(ok);
    r.set_error(error);
    if (ok && WritesPart(a)) r.set_output_file(WriteAttemptOutput(&fs_, a, output));
    return r;
  }
  // A scheduling pass, and the output work it leads to (a starting job's setup, and the
  // assignments that follow it) carried out as the master would.
  void Schedule(int64_t now_ms, Effects* fx) {
    s_.Schedule(now_ms, fx);
    Settle(s_, &fs_, now_ms, fx);
  }
  // A worker's report, and the commits it leads to carried out as the master would.
  void OnReport(const std::string& worker, const proto::TaskReport& r, int64_t now_ms, Effects* fx) {
    s_.OnReport(worker, r, now_ms, fx);
    Settle(s_, &fs_, now_ms, fx);
  }

  InMemoryFileSystem fs_;
  Scheduler s_;
};

}  // namespace mr::testing
