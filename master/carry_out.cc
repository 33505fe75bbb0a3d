#include "master/carry_out.h"

#include "common/log.h"

namespace mr {

void CarryOutOutputWork(Scheduler& scheduler, const OutputCommitter& committer, int64_t now_ms, Effects* fx) {
  // One setup or commit at a time: a result may end its job, and the job's other work with it.
  while (!fx->setups.empty() || !fx->commits.empty() || !fx->cleanups.empty()) {
    for (const CleanupRequest& cleanup : fx->cleanups) {
      Status s = committer.Clean(cleanup);
      if (!s.ok()) spdlog::warn("{}", s.message());
    }
    fx->cleanups.clear();
    if (!fx->setups.empty()) {
      SetupRequest setup = std::move(fx->setups.front());
      fx->setups.erase(fx->setups.begin());
      scheduler.OnOutputSetUp(setup, committer.Setup(setup.output, setup.overwrite), now_ms, fx);
      continue;
    }
    if (fx->commits.empty()) break;
    CommitRequest c = std::move(fx->commits.front());
    fx->commits.erase(fx->commits.begin());
    Status result = committer.Commit(c);
    scheduler.OnCommitted(c, result, now_ms, fx);
  }
}

}  // namespace mr
