// CarryOutOutputWork: the master's side of the output work the scheduler asks for in its Effects
// (master/scheduler.h): each starting job's output is prepared and each commit carried out with the
// OutputCommitter, and the result told to the scheduler (which may ask for more: the job's
// _SUCCESS after its last reduce, assignments once an output is ready), and each ended job's
// _temporary is removed. Used by the master after every scheduler call, and by the
// scheduler's tests, so both drive the same protocol.
// Thread-safety: as the Scheduler (its thread only).
#pragma once

#include <cstdint>

#include "master/output_committer.h"
#include "master/scheduler.h"

namespace mr {

// Empties fx->setups, fx->commits and fx->cleanups; what the scheduler does in answer lands in *fx.
void CarryOutOutputWork(Scheduler& scheduler, const OutputCommitter& committer, int64_t now_ms, Effects* fx);

}  // namespace mr
