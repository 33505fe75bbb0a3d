#include "master/carry_out.h"

#include "common/log.h"

namespace mr {

void CarryOutOutputWork(Scheduler& scheduler, const OutputCommitter& committer, int64_t now_ms, Effects* fx) {
  // One commit at a time: a result may end its job, and the job's other commits with it.
  while (!fx->commits.empty() || !fx->cleanups.empty()) {
    for (const CleanupRequest& cleanup : fx->cleanups) {
      Status s = committer.Clean(cleanup);
      if (!s.ok()) spdlog::warn("{}", s.message());
    }
    fx->cleanups.clear();
    if (fx->commits.empty()) break;
    CommitRequest c = std::move(fx->commits.front());
    fx->commits.erase(fx->commits.begin());
    Status result = committer.Commit(c);
    scheduler.OnCommitted(c, result, now_ms, fx);
  }
}

}  // namespace mr
