// Names and defaults that every part of mr shares, each in one place: the built-in counters
// (DESIGN §7), where a master listens unless told otherwise, and how many tasks a worker runs at
// once. The command line, the options structs and the views read them from here.
#pragma once

#include <cstdint>

namespace mr {

namespace counter {
// Counted by map attempts.
inline constexpr const char* kMapInputRecords = "map.input.records";
inline constexpr const char* kMapInputBytes = "map.input.bytes";
inline constexpr const char* kMapOutputRecords = "map.output.records";
// The bytes of the records maps wrote (after their combiners; a map-only job's: to their parts),
// and of the compressed blocks that hold them in the store (common/block.h).
inline constexpr const char* kMapOutputBytes = "map.output.bytes";
inline constexpr const char* kMapOutputCompressedBytes = "map.output.compressed.bytes";
inline constexpr const char* kCombineOutputRecords = "combine.output.records";
inline constexpr const char* kSpillBytes = "spill.bytes";
inline constexpr const char* kSpills = "spill.count";
// Bad input records a map skipped (--skip-bad-records).
inline constexpr const char* kRecordsSkipped = "records.skipped";
// Counted by reduce attempts.
// The bytes reducers fetched (compressed blocks, as sent), and of the records in them.
inline constexpr const char* kShuffleBytes = "shuffle.bytes";
inline constexpr const char* kShuffleRawBytes = "shuffle.raw.bytes";
inline constexpr const char* kReduceInputGroups = "reduce.input.groups";
inline constexpr const char* kReduceInputRecords = "reduce.input.records";
inline constexpr const char* kReduceOutputRecords = "reduce.output.records";
inline constexpr const char* kReduceOutputBytes = "reduce.output.bytes";
// Counted by the master, per job.
inline constexpr const char* kAttemptsLaunched = "attempts.launched";
inline constexpr const char* kAttemptsFailed = "attempts.failed";
inline constexpr const char* kAttemptsBackup = "attempts.backup";
inline constexpr const char* kAttemptsPreempted = "attempts.preempted";  // only once there is one
// The user counters a worker dropped from a report too big to send (worker/task_report.h).
inline constexpr const char* kReportCountersDropped = "report.counters.dropped";
}  // namespace counter

// A master's RPC and HTTP ports, and the addresses a client and a master use unless told otherwise.
inline constexpr uint16_t kDefaultRpcPort = 7070;
inline constexpr uint16_t kDefaultHttpPort = 7071;
inline constexpr const char* kDefaultHost = "127.0.0.1";
inline constexpr const char* kDefaultMasterAddress = "127.0.0.1:7070";
inline constexpr const char* kDefaultHttpAddress = "127.0.0.1:7071";

// Tasks a worker runs at once unless told otherwise: one per core of its machine (at least 1).
int DefaultWorkerSlots();

}  // namespace mr
