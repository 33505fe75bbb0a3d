#include "master/output_committer.h"

#include <filesystem>
#include <fmt/format.h>

#include "common/failpoint.h"
#include "common/output_layout.h"

namespace mr {

namespace fs = std::filesystem;

Status OutputCommitter::CheckNew(const std::string& output, bool overwrite) const {
  if (!overwrite && fs_->Exists(output)) {
    return Status::AlreadyExists(fmt::format("output {} already exists (use --overwrite to replace it)", output));
  }
  return Status::OK();
}

Status OutputCommitter::Setup(const std::string& output, bool overwrite) const {
  if (fs_->Exists(output)) {
    if (!overwrite) return Status::AlreadyExists(fmt::format("output {} already exists", output));
    MR_RETURN_IF_ERROR(fs_->RemoveAll(output));
  }
  return fs_->CreateDirs(TemporaryDir(output));
}

Status OutputCommitter::Resume(const std::string& output) const { return fs_->CreateDirs(TemporaryDir(output)); }

Status OutputCommitter::CommitTask(const std::string& output, uint32_t partition,
                                   const std::string& attempt_file) const {
  fs::path src = fs::path(attempt_file).lexically_normal();
  fs::path temp = fs::path(TemporaryDir(output)).lexically_normal();
  auto rel = src.lexically_relative(temp);
  if (rel.empty() || rel.native().starts_with("..") || src.filename() != PartFileName(partition)) {
    return Status::InvalidArgument(fmt::format("reduce output {} is not under {}", attempt_file, temp.string()));
  }
  Status s = fs_->Rename(src.string(), output + "/" + PartFileName(partition));
  if (!s.ok()) return Status::IoError(fmt::format("cannot commit {}: {}", attempt_file, s.message()));
  (void)Failpoint("master.after_commit");
  return Status::OK();
}

bool OutputCommitter::IsCommitted(const std::string& output, uint32_t partition) const {
  return fs_->Exists(output + "/" + PartFileName(partition));
}

Status OutputCommitter::CommitJob(const std::string& output) const {
  return fs_->WriteFile(output + "/" + kSuccessFileName, "");
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

}  // namespace mr
