// Files shipped with a job (--files, Hadoop's -files; DESIGN §4), in one place for the client, which
// reads them, the master, which checks and keeps them, and the worker, which caches them and lays
// them out in each task's working directory. A file is named by the SHA-256 of its bytes, so the
// same bytes are stored and fetched once, and a file edited after the submission cannot change a
// running job. Pure functions, but ReadJobFile (which reads the file); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mr.pb.h"

namespace mr {

// At most this many files, of at most this many bytes in all, per job: they travel in the
// submission and in one reply each, so they stay well inside a frame.
inline constexpr int kMaxJobFiles = 256;
inline constexpr uint64_t kMaxJobFilesBytes = 32ull << 20;
// The master keeps at most this many bytes of shipped files in its journal (those of jobs that
// may still run): past it, a submission that ships files waits for jobs to end.
inline constexpr uint64_t kMaxKeptJobFilesBytes = 1ull << 30;

// The SHA-256 of `data`, 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// Reads "PATH", or "PATH#NAME" (Hadoop's fragment: the name the tasks see, instead of PATH's base
// name): a regular file, with its bytes, digest and whether it is executable. InvalidArgument
// naming the file when it is not one, too big, or its name is not a plain file name.
Result<proto::JobFile> ReadJobFile(const std::string& spec);

// A name a task's working directory may hold: not empty, no '/', no NUL, not "." or "..", at most
// 255 bytes.
Status CheckJobFileName(std::string_view name);

// ResourceExhausted when the files of `spec` (and of its pipeline steps) do not fit beside the
// `kept` bytes the master keeps already, within `limit`.
Status CheckFilesRoom(uint64_t kept, const proto::JobSpec& spec, uint64_t limit = kMaxKeptJobFilesBytes);

// Checks a submission's files: plain, distinct names; each one's bytes match its size and digest
// (recomputed: a client's digest is not trusted); within kMaxJobFiles and kMaxJobFilesBytes. With
// `have_bytes` false (a journaled spec, whose bytes are kept apart) only names, sizes and digests.
Status CheckJobFiles(const google::protobuf::RepeatedPtrField<proto::JobFile>& files, bool have_bytes);

}  // namespace mr
