#include "master/output_committer.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include <map>
#include <memory>

#include "common/failpoint.h"
#include "common/gzip.h"
#include "common/log.h"
#include "common/mapped_file.h"
#include "common/output_layout.h"

namespace mr {

namespace fs = std::filesystem;

Status OutputCommitter::CheckNew(const std::string& output, bool overwrite) const {
  if (!fs_->Exists(output)) return Status::OK();
  if (!overwrite) {
    return Status::AlreadyExists(fmt::format("output {} already exists (use --overwrite to replace it)", output));
  }
  Status ours = IsOutput(output);
  if (!ours.ok()) {
    return Status::AlreadyExists(
        fmt::format("output {} exists and is not an mr output ({}): --overwrite replaces only a job's output", output,
                    ours.message()));
  }
  return Status::OK();
}

Status OutputCommitter::IsOutput(const std::string& dir) const {
  auto entries = fs_->List(dir);
  if (!entries.ok()) return entries.status();
  auto digits = [](std::string_view s) {
    return s.size() == 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  auto part = [&](std::string_view name) {
    return (name.starts_with("part-r-") || name.starts_with("part-m-")) && digits(name.substr(7));
  };
  for (const std::string& e : *entries) {
    std::string_view p = e;
    bool ok = p == kSuccessFileName || part(p);
    // OUT/_skipped/ and its map-NNNNN files.
    if (p.starts_with(kSkippedDirName) && p.size() > sizeof(kSkippedDirName) - 1 && p[sizeof(kSkippedDirName) - 1] == '/') {
      std::string_view file = p.substr(sizeof(kSkippedDirName));
      ok = file.empty() || (file.starts_with("map-") && digits(file.substr(4)));
    }
    for (std::string_view temp : {std::string_view("_temporary/"), std::string_view("_temporary.removing/")}) {
      if (!p.starts_with(temp)) continue;
      std::string_view rest = p.substr(temp.size());
      auto slash = rest.find('/');
      std::string_view attempt = rest.substr(0, slash);
      std::string_view file = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
      // An attempt's files: its part, and a map-only map's threads' pieces of it (part-m-00003.1).
      ok = rest.empty() || (attempt.starts_with("job-") &&
                            (file.empty() || (file.find('/') == std::string_view::npos && part(file.substr(0, 12)) &&
                                                (file.size() == 12 || file[12] == '.'))));
    }
    if (!ok) return Status::InvalidArgument(fmt::format("it holds {}", e));
  }
  return Status::OK();
}

Status OutputCommitter::Setup(const std::string& output, bool overwrite) const {
  if (fs_->Exists(output)) {
    MR_RETURN_IF_ERROR(CheckNew(output, overwrite));
    MR_RETURN_IF_ERROR(fs_->RemoveAll(output));
  }
  return fs_->CreateDirs(TemporaryDir(output));
}

ResumedOutput OutputCommitter::Resume(const std::string& output, uint32_t tasks, PartKind kind) const {
  ResumedOutput r{fs_->CreateDirs(TemporaryDir(output)), std::vector<bool>(tasks)};
  for (uint32_t p = 0; p < tasks && r.status.ok(); p++) r.committed[p] = IsCommitted(output, p, kind);
  return r;
}

Status OutputCommitter::CommitTask(const std::string& output, uint32_t partition, const std::string& attempt_file,
                                   PartKind kind) const {
  fs::path src = fs::path(attempt_file).lexically_normal();
  fs::path temp = fs::path(TemporaryDir(output)).lexically_normal();
  auto rel = src.lexically_relative(temp);
  if (rel.empty() || rel.native().starts_with("..") || src.filename() != PartFileName(partition, kind)) {
    return Status::InvalidArgument(fmt::format("task output {} is not under {}", attempt_file, temp.string()));
  }
  Status s = fs_->Rename(src.string(), output + "/" + PartFileName(partition, kind));
  if (!s.ok()) return Status::IoError(fmt::format("cannot commit {}: {}", attempt_file, s.message()));
  (void)Failpoint("master.after_commit");
  return Status::OK();
}

bool OutputCommitter::IsCommitted(const std::string& output, uint32_t partition, PartKind kind) const {
  return fs_->Exists(output + "/" + PartFileName(partition, kind));
}

namespace {

// The record at `in`, read from its input file.
Result<std::string> ReadRecord(const SkippedInput& in) {
  std::string inflated;
  std::unique_ptr<MappedFile> mapped;
  std::string_view data;
  if (IsGzipPath(in.path)) {
    auto text = ReadGzipFile(in.path);
    if (!text.ok()) return text.status();
    inflated = std::move(*text);
    data = inflated;
  } else {
    auto file = MappedFile::Open(in.path);
    if (!file.ok()) return file.status();
    mapped = std::move(*file);
    data = mapped->data();
  }
  if (in.offset >= data.size()) {
    return Status::NotFound(fmt::format("{} has no record at byte {}", in.path, in.offset));
  }
  std::string_view rest = data.substr(in.offset);
  size_t size = in.record_size > 0 ? std::min<size_t>(in.record_size, rest.size()) : rest.find('\n');
  if (size == std::string_view::npos) return std::string(rest) + "\n";  // a last line without one
  return std::string(rest.substr(0, in.record_size > 0 ? size : size + 1));
}

}  // namespace

Status OutputCommitter::CommitJob(const std::string& output, const std::vector<SkippedInput>& skipped) const {
  std::map<uint32_t, std::string> files;
  for (const SkippedInput& in : skipped) {
    auto record = ReadRecord(in);
    if (!record.ok()) return record.status().WithMessage("cannot keep a skipped record: " + record.status().message());
    files[in.map] += *record;
  }
  if (!files.empty()) MR_RETURN_IF_ERROR(fs_->CreateDirs(output + "/" + kSkippedDirName));
  for (const auto& [map, content] : files) {
    MR_RETURN_IF_ERROR(fs_->WriteFile(output + "/" + SkippedFileName(map), content));
  }
  return fs_->WriteFile(output + "/" + kSuccessFileName, "");
}

Status OutputCommitter::Commit(const CommitRequest& c) const {
  if (!c.partition) return CommitJob(c.output, c.skipped);
  return CommitTask(c.output, *c.partition, AttemptOutputFile(c.output, c.job_id, *c.partition, c.attempt, c.kind),
                    c.kind);
}

Status OutputCommitter::Cleanup(const std::string& output) const {
  const std::string temp = TemporaryDir(output);
  const std::string doomed = temp + ".removing";
  MR_RETURN_IF_ERROR(fs_->RemoveAll(doomed));  // left by a master that died while removing
  if (!fs_->Exists(temp)) return Status::OK();
  // After the rename, no attempt's path leads into the tree being removed (it creates
  // OUT/_temporary/ATTEMPT with create_directory, which now fails), so nothing can be added to it.
  if (!fs_->Rename(temp, doomed).ok()) return fs_->RemoveAll(temp);
  return fs_->RemoveAll(doomed);
}

Status OutputCommitter::Discard(const std::string& output) const {
  MR_RETURN_IF_ERROR(Cleanup(output));
  if (!fs_->Exists(output)) return Status::OK();
  Status ours = IsOutput(output);
  if (!ours.ok()) {
    spdlog::warn("output {} of a job that did not succeed is left in place: {}", output, ours.message());
    return Status::OK();
  }
  return fs_->RemoveAll(output);
}

Status OutputCommitter::Clean(const CleanupRequest& request) const {
  return request.discard ? Discard(request.output) : Cleanup(request.output);
}

}  // namespace mr
