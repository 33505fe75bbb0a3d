// The logs of a job's attempts (`mr logs`, DESIGN §7): each attempt's worker sends its own log
// lines and the tail of its user code's stderr with its TaskReport; the master journals them
// (master/journal.h) until the retention forgets the job, and answers GetLogs from the journal and
// the Scheduler's attempt history. An attempt lost with its worker never reported: it is listed
// with the reason its log is unavailable. Pure functions over their arguments; call them from the
// master's io thread (the Scheduler is single-threaded).
#pragma once

#include <string>

#include "common/status.h"
#include "master/journal.h"
#include "master/scheduler.h"
#include "mr.pb.h"

namespace mr {

// The journal record of a reported attempt's log (outcome left empty: the Scheduler decides it).
proto::AttemptLog AttemptLogFromReport(const std::string& worker, const proto::TaskReport& report);

// The logs of the attempts of job request.job_id() that match the request's task and attempt,
// maps first, then by index and attempt. NotFound for an unknown (or forgotten) job;
// InvalidArgument when no task or attempt matches.
Result<proto::LogsReply> CollectLogs(const Scheduler& scheduler, Journal& journal, const proto::GetLogs& request,
                                     int64_t now_ms);

}  // namespace mr
