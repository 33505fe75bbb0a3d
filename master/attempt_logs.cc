#include "master/attempt_logs.h"

#include <fmt/format.h>

#include <map>
#include <tuple>

#include "common/job_state.h"

namespace mr {

proto::AttemptLog AttemptLogFromReport(const std::string& worker, const proto::TaskReport& r) {
  proto::AttemptLog l;
  l.set_kind(r.kind());
  l.set_index(r.index());
  l.set_attempt(r.attempt());
  l.set_worker(worker);
  l.set_log(r.log());
  l.set_user_stderr(r.user_stderr());
  l.set_stderr_truncated(r.stderr_truncated());
  return l;
}

Result<proto::LogsReply> CollectLogs(const Scheduler& scheduler, Journal& journal, const proto::GetLogs& req,
                                     int64_t now_ms) {
  auto tasks = scheduler.Tasks(req.job_id(), now_ms);
  if (!tasks.ok()) return tasks.status();
  auto logged = journal.LoadAttemptLogs(req.job_id());
  if (!logged.ok()) return logged.status();
  auto wanted = [&](proto::TaskKind kind, uint32_t index, uint32_t attempt) {
    if (req.kind() != proto::TASK_KIND_UNSPECIFIED && kind != req.kind()) return false;
    if (req.has_index() && index != req.index()) return false;
    return req.attempt() == 0 || attempt == req.attempt();
  };
  using Key = std::tuple<int, uint32_t, uint32_t>;  // kind, index, attempt
  std::map<Key, proto::AttemptLog> out;
  for (proto::AttemptLog& l : *logged) {
    if (wanted(l.kind(), l.index(), l.attempt())) out[{l.kind(), l.index(), l.attempt()}] = std::move(l);
  }
  for (const proto::TaskHistory& t : *tasks) {
    for (const proto::AttemptRecord& a : t.history()) {
      if (!wanted(t.kind(), t.index(), a.attempt())) continue;
      auto [it, fresh] = out.try_emplace(Key{t.kind(), t.index(), a.attempt()});
      proto::AttemptLog& l = it->second;
      l.set_outcome(a.outcome());
      if (!fresh) continue;
      l.set_kind(t.kind());
      l.set_index(t.index());
      l.set_attempt(a.attempt());
      l.set_worker(a.worker());
      switch (OutcomeOf(a)) {
        case AttemptOutcome::kRunning:
          l.set_unavailable(fmt::format("still running on worker {}: its log comes with its report", a.worker()));
          break;
        case AttemptOutcome::kLost:
          l.set_unavailable(fmt::format("lost with worker {} before it reported: its log is unavailable", a.worker()));
          break;
        case AttemptOutcome::kKilled:
        case AttemptOutcome::kSuperseded:
        case AttemptOutcome::kPreempted:
          l.set_unavailable(fmt::format("stopped on worker {} before it reported ({})", a.worker(),
                                        a.outcome()));
          break;
        default:
          l.set_unavailable(fmt::format("worker {} sent no log for it", a.worker()));
      }
    }
  }
  if (out.empty()) {
    std::string task = req.kind() == proto::TASK_KIND_UNSPECIFIED
                           ? "task"
                           : fmt::format("{} task", TaskKindName(req.kind()));
    if (req.has_index()) task += fmt::format(" {}", req.index());
    if (req.attempt() != 0) {
      return Status::InvalidArgument(fmt::format("job {} has no attempt {} of {}{}", req.job_id(), req.attempt(),
                                                 req.has_index() ? "" : "any ", task));
    }
    return Status::InvalidArgument(fmt::format("job {} has no {} attempts to show", req.job_id(), task));
  }
  proto::LogsReply reply;
  for (auto& [key, l] : out) {
    if (l.outcome().empty()) l.set_outcome("reported");  // beyond the kept attempt history
    *reply.add_attempts() = std::move(l);
  }
  return reply;
}

}  // namespace mr
